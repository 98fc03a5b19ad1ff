package main

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
)

func TestDemoEngineFlags(t *testing.T) {
	ntNeeds := "Windows only"
	if runtime.GOOS == "windows" {
		ntNeeds = "add --space process"
	}
	tests := []struct {
		name string
		args []string
		want string // in stderr; "" for a valid command line
	}{
		{"unknown engine", []string{"--engine", "lfh"}, "want go or nt"},
		{"nt in a window", []string{"--engine", "nt"}, ntNeeds},
		{"go is the default", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var errOut bytes.Buffer
			c, err := parseDemoFlags(tt.args, &errOut)
			if tt.want == "" {
				if err != nil || c.engine != "go" {
					t.Fatalf("engine %q, error %v", c.engine, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}
