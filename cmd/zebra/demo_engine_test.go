package main

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
)

func TestDemoEngineFlags(t *testing.T) {
	ntNeeds, ntAlone := "Windows only", "Windows only"
	if runtime.GOOS == "windows" {
		ntNeeds, ntAlone = "add --space process", ""
	}
	tests := []struct {
		name      string
		args      []string
		want      string // in stderr; "" for a valid command line
		wantSpace string // of a valid command line
	}{
		{"unknown engine", []string{"--engine", "lfh"}, "want go or nt", ""},
		{"nt in a window", []string{"--engine", "nt", "--space", "win32"}, ntNeeds, ""},
		{"nt alone picks the process's space", []string{"--engine", "nt"}, ntAlone, "process"},
		{"go is the default", nil, "", "win32"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var errOut bytes.Buffer
			c, err := parseDemoFlags(tt.args, &errOut)
			if tt.want == "" {
				if err != nil || c.space != tt.wantSpace {
					t.Fatalf("engine %q space %q, error %v; want space %q", c.engine, c.space, err, tt.wantSpace)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}
