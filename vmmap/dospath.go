package vmmap

import "strings"

// Windows reports mapped files by their NT device paths
// ("\Device\HarddiskVolume3\Windows\x.dll"); people know them by drive
// letters. A driveTable, built once per snapshot from QueryDosDevice
// (live_windows.go), does the translation; it is plain data so that it is
// tested on every OS.

// driveDevice pairs a drive ("C:") with the device it names
// ("\Device\HarddiskVolume3").
type driveDevice struct {
	drive, device string
}

// driveTable is the drives of a system with their devices.
type driveTable []driveDevice

// dosPath turns "\Device\HarddiskVolume3\Windows\x.dll" into
// "C:\Windows\x.dll" when the table maps C: to that device (device names
// compare without regard to case, as the object manager does), and
// "\??\C:\Windows\x.dll", an NT path to a DOS name as Wine answers, into
// "C:\Windows\x.dll". Other paths come back unchanged.
func (t driveTable) dosPath(p string) string {
	if q, ok := strings.CutPrefix(p, `\??\`); ok {
		return q
	}
	for _, d := range t {
		if d.device == "" || len(p) <= len(d.device) || p[len(d.device)] != '\\' {
			continue
		}
		if strings.EqualFold(p[:len(d.device)], d.device) {
			return d.drive + p[len(d.device):]
		}
	}
	return p
}
