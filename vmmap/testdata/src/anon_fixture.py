# anon_fixture.py writes the synthetic fixture testdata/anon (see README.md):
# a process as a Linux 5.17+ / Android kernel with CONFIG_ANON_VMA_NAME would
# show it. Run from vmmap/testdata: python3 src/anon_fixture.py
maps = []
def m(lo, hi, perms, path="", off=0, dev="00:00", ino=0, rss=None, priv=None, huge=0, flags=None, swap=0):
    maps.append((lo, hi, perms, path, off, dev, ino, rss, priv, huge, flags, swap))
K = 1024; M = 1 << 20
m(0x5a0000000000, 0x5a0000200000, "r-xp", "/system/bin/app_process64", 0, "fd:05", 1234, rss=1*M)
m(0x5a0000200000, 0x5a0000210000, "r--p", "/system/bin/app_process64", 0x200000, "fd:05", 1234, rss=64*K)
m(0x5a0000210000, 0x5a0000214000, "rw-p", "/system/bin/app_process64", 0x210000, "fd:05", 1234, rss=16*K, priv=16*K)
m(0x5a0000214000, 0x5a0000218000, "rw-p", "[anon:.bss]", rss=8*K, priv=8*K)
# The Go runtime's own names (Go 1.25+).
m(0xc000000000, 0xc000400000, "rw-p", "[anon: Go: heap]", rss=4*M, priv=4*M, huge=2*M, flags="rd wr mr mw me ac hg")
m(0xc000400000, 0xc004000000, "---p", "[anon: Go: heap reservation]")
# A zebra: two heaps growing at the same time, stripes A B A B A B.
at = 0x7000_0000_0000
for name, size in [("heap A", 1*M), ("heap B", 1*M), ("heap A", 2*M), ("heap B", 2*M), ("heap A", 4*M), ("heap B", 4*M)]:
    m(at, at+size//2, "rw-p", "[anon:%s]" % name, rss=size//2, priv=size//2)
    m(at+size//2, at+size, "---p", "[anon:%s]" % name)
    at += size
at += 16*M
m(at, at+8*M, "rw-p", "[anon:libc_malloc]", rss=3*M, priv=3*M, swap=256*K)
at += 8*M
m(at, at+4*K, "---p", "[anon:stack_and_tls:4243]")
m(at+4*K, at+1*M+4*K, "rw-p", "[anon:stack_and_tls:4243]", rss=24*K, priv=24*K)
at += 2*M
m(at, at+64*K, "rw-s", "[anon_shmem:shared ring]", rss=64*K)
m(at+64*K, at+64*K+32*K, "rw-s", "/memfd:jit-cache (deleted)", 0, "00:01", 2049, rss=32*K)
m(at+2*M, at+4*M, "rw-p", "/anon_hugepage (deleted)", 0, "00:0f", 4100, rss=2*M, priv=2*M, flags="rd wr mr mw me ac ht")
m(at+4*M, at+4*M+12*K, "r--p", "/data/local/tmp/my dir/with spaces.dat", 0, "fd:21", 777, rss=4*K)
m(0x7ff0_0000_0000, 0x7ff0_0000_1000, "r--p", "[vvar]")
m(0x7ff0_0000_1000, 0x7ff0_0000_2000, "r-xp", "[vdso]", rss=4*K)
m(0x7fff_f000_0000, 0x7fff_f002_1000, "rw-p", "[stack]", rss=16*K, priv=16*K, flags="rd wr mr mw me gd ac")
maps.sort()

def line(e):
    lo, hi, perms, path, off, dev, ino = e[:7]
    head = "%08x-%08x %s %08x %s %d" % (lo, hi, perms, off, dev, ino)
    return (head.ljust(73) + path) if path else head + " "

with open("anon/proc/4242/maps", "w") as f:
    for e in maps:
        f.write(line(e) + "\n")
with open("anon/proc/4242/smaps", "w") as f:
    for e in maps:
        lo, hi, perms, path, off, dev, ino, rss, priv, huge, flags, swap = e
        size = (hi-lo)//K; rss = (rss or 0)//K; priv = (priv or 0)//K
        shared = rss - priv
        f.write(line(e) + "\n")
        for k, v in [("Size", size), ("KernelPageSize", 4), ("MMUPageSize", 4), ("Rss", rss), ("Pss", priv + shared//2),
                     ("Shared_Clean", shared), ("Shared_Dirty", 0), ("Private_Clean", 0), ("Private_Dirty", priv),
                     ("Referenced", rss), ("Anonymous", priv if path == "" or path.startswith("[anon") else 0),
                     ("AnonHugePages", huge//K), ("Swap", swap//K), ("SwapPss", swap//K), ("Locked", 0)]:
            f.write("%-16s%8d kB\n" % (k + ":", v))
        f.write("THPeligible:    %d\n" % (1 if "hg" in (flags or "") else 0))
        # The kernel accounts (VmFlags "ac") private writable mappings.
        acct = " ac" if perms[1] == "w" and perms[3] == "p" else ""
        f.write("VmFlags: %s \n" % (flags or " ".join(x for x, c in zip(["rd", "wr", "ex"], perms) if c != "-") + " mr mw me" + acct))
open("anon/proc/4242/stat", "w").write("4242 (com.example.z) S 1 4242 0 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 12 0 100 0 0\n")
open("anon/proc/4242/comm", "w").write("com.example.z\n")
open("anon/proc/sys/vm/max_map_count", "w").write("65530\n")
