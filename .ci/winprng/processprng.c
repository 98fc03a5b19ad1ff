/*
 * bcryptprimitives.dll for Wine: the one export Go needs.
 *
 * Go 1.22 and later get random bytes on Windows from
 * bcryptprimitives.dll!ProcessPrng and abort at start-up without it. Wine 8
 * (Debian bookworm's wine64) ships a bcryptprimitives.dll that lacks the
 * export, so Go test binaries die before main. This file implements
 * ProcessPrng on top of advapi32!SystemFunction036 (RtlGenRandom), which
 * Wine does implement. .ci/wine-setup builds it with
 *
 *	x86_64-w64-mingw32-gcc -O2 -shared -o bcryptprimitives.dll \
 *		processprng.c -ladvapi32
 *
 * copies the DLL into the prefix's system32 and selects it with
 * WINEDLLOVERRIDES=bcryptprimitives=n. It is a test-harness shim only: it
 * is never shipped and never used on real Windows.
 */
#include <windows.h>

/* advapi32 exports RtlGenRandom under this name; ntsecapi.h declares it
 * only through a macro, so declare it directly. */
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

/*
 * ProcessPrng fills data with len random bytes. The real function always
 * returns TRUE; this one reports a failure of RtlGenRandom with FALSE (Go
 * then aborts, which is better than running with unset bytes). RtlGenRandom
 * takes a ULONG length, so large requests go in chunks.
 */
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
	while (len > 0) {
		ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
		if (!SystemFunction036(data, n))
			return FALSE;
		data += n;
		len -= n;
	}
	return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved)
{
	(void)inst;
	(void)reason;
	(void)reserved;
	return TRUE;
}
