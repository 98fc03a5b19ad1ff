package render

import (
	"os"
	"testing"

	"github.com/zebra-heap/zebra/vmmap"
)

func TestZZLook(t *testing.T) {
	for name, s := range map[string]any{"before": zebraFixture(false), "after": zebraFixture(true), "linux": linux64Fixture(), "tiny": tinyStripes(), "py": readFixture(t, "python3.json"), "self": readFixture(t, "zebra-self.json")} {
		f, _ := os.Create("/tmp/look-" + name + ".png")
		if err := PNG(f, s.(*vmmap.Snapshot), Options{}); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
}

func TestZZLookHTML(t *testing.T) {
	f, _ := os.Create("/tmp/look.html")
	defer f.Close()
	hostile := zebraFixture(false)
	hostile.Regions[3].Owner = "<script>alert(1)</script>"
	err := HTML(f, Report{Title: "Zebra demo", Note: "Two heaps grow at the same time.",
		Sections: []Section{
			{Caption: "Without reserve", Note: "Heap A destroyed afterwards.", Snapshots: []Labelled{{"before", zebraFixture(false)}, {"after", zebraFixture(true)}},
				Tables: []Table{{Caption: "Timings", Header: []string{"step", "ms"}, Rows: [][]string{{"alloc", "12"}, {"<b>x</b>", "3", "extra"}}}}},
			{Caption: "A 64-bit process", Snapshots: []Labelled{{"", linux64Fixture()}}},
		}})
	if err != nil {
		t.Fatal(err)
	}
}
