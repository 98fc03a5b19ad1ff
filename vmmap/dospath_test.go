package vmmap

import "testing"

func TestDOSPath(t *testing.T) {
	table := driveTable{
		{`C:`, `\Device\HarddiskVolume3`},
		{`D:`, `\Device\HarddiskVolume31`},
		{`Z:`, `\??\unix`},
		{`E:`, ``},
	}
	tests := []struct {
		name  string
		input string
		want  string
	}{
		{"drive", `\Device\HarddiskVolume3\Windows\System32\ntdll.dll`, `C:\Windows\System32\ntdll.dll`},
		{"case of the device", `\device\harddiskvolume3\x.dll`, `C:\x.dll`},
		{"longer device with the same prefix", `\Device\HarddiskVolume31\y.dll`, `D:\y.dll`},
		{"device without a drive", `\Device\HarddiskVolume7\z.dll`, `\Device\HarddiskVolume7\z.dll`},
		{"device alone", `\Device\HarddiskVolume3`, `\Device\HarddiskVolume3`},
		{"NT path to a DOS name (Wine)", `\??\C:\windows\system32\kernel32.dll`, `C:\windows\system32\kernel32.dll`},
		{"empty", ``, ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := table.dosPath(tt.input); got != tt.want {
				t.Errorf("dosPath(%q) = %q, want %q", tt.input, got, tt.want)
			}
		})
	}
}
