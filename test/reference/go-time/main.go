package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"
)

func main() {
	out := map[string]any{}
	t := time.Unix(0, 1257894245123456789).UTC()
	layouts := []string{"2006-01-02", time.RFC3339, time.RFC3339Nano, time.UnixDate, time.RFC850, time.Kitchen, "15:04:05.000", "15:04:05.999999999", "05.9", "002 __2", "January 2, 2006 at 3:04pm (MST)", "06 1 2 3 4 5", "-0700 -07:00 -07 Z0700 Z07:00", "Mon Monday Jan January _2 02 2", "2006-01-02 15:04:05.999999999 -0700 MST"}
	f := map[string]string{}
	for _, l := range layouts {
		f[l] = t.Format(l)
	}
	out["format"] = f
	z := map[string]string{}
	for _, zone := range []string{"America/New_York", "Europe/Berlin", "Asia/Kolkata", "Asia/Tokyo", "Australia/Adelaide", "America/Sao_Paulo", "UTC", "Nope/Zone"} {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			loc, _ = time.LoadLocation("UTC")
		}
		z[zone] = t.In(loc).Format("2006-01-02T15:04:05 -0700 MST")
		summer := time.Unix(1720000000, 0)
		z[zone+" summer"] = summer.In(loc).Format("2006-01-02T15:04:05 -07:00 MST")
	}
	out["zones"] = z
	out["string"] = t.String()
	out["zero"] = time.Time{}.String()
	type pc struct{ L, V string }
	p := map[string]any{}
	for _, c := range []pc{{"2006-01-02", "2024-02-29"}, {time.RFC3339, "2024-03-10T01:02:03+05:30"}, {time.RFC3339, "2024-03-10T01:02:03Z"}, {"2006-01-02 15:04:05", "2024-03-10 01:02:03.5"}, {"Jan _2 2006 3:04PM", "Feb  3 2021 4:05PM"}, {"2006-01-02", "2024-13-01"}, {"2006-01-02", "2023-02-29"}, {"02/01/06 15:04 MST", "05/07/99 12:30 UTC"}, {time.RFC3339Nano, "2024-01-01T00:00:00.000000001-08:00"}} {
		v, err := time.ParseInLocation(c.L, c.V, time.UTC)
		if err != nil {
			p[c.L+" | "+c.V] = map[string]any{"error": true, "string": time.Time{}.String()}
		} else {
			p[c.L+" | "+c.V] = map[string]any{"string": v.String(), "unix": v.Unix()}
		}
	}
	out["parse"] = p
	d := map[string]string{}
	for _, n := range []int64{0, 1, 999, 1000, 1001, 1500000, 95e9, 3661e9, -90e9, 1500000000, 100 * 3600e9, 3600e9, 61e9 + 5e8} {
		d[fmt.Sprint(n)] = time.Duration(n).String()
	}
	out["durations"] = d
	pd := map[string]any{}
	for _, s := range []string{"1h30m", "-1.5h", "300ms", "2h45m10.5s", "1us", "1µs", "0", "1x", "", "+5m", ".5s", "1.h"} {
		v, err := time.ParseDuration(s)
		if err != nil {
			pd[s] = nil
		} else {
			pd[s] = int64(v)
		}
	}
	out["parseDuration"] = pd
	r := map[string]string{}
	for _, n := range []int64{1500000000, 2500000000, -1500000000, 1499999999, 3601e9 + 7e8} {
		r[fmt.Sprint(n)] = time.Duration(n).Round(time.Second).String()
	}
	out["round"] = r
	mod := map[string]string{}
	base := time.Date(2024, 3, 10, 1, 30, 0, 0, time.UTC)
	ny, _ := time.LoadLocation("America/New_York")
	for _, m := range []string{"1h", "-36h", "90m", "1.5h"} {
		dd, _ := time.ParseDuration(m)
		mod[m] = base.Add(dd).String()
		mod[m+" ny"] = base.In(ny).Add(dd).String()
	}
	out["modify"] = mod
	json.NewEncoder(os.Stdout).Encode(out)
}
