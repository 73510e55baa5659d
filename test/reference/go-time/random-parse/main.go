package main

import (
	"encoding/json"
	"math/rand"
	"os"
	"time"
)

func main() {
	r := rand.New(rand.NewSource(11))
	zones := []string{"UTC", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "America/St_Johns"}
	layouts := []string{time.RFC3339Nano, time.RFC3339, time.UnixDate, time.RFC1123Z, time.RFC822Z, "2006-01-02 15:04:05", "Jan _2 2006 3:04:05.000PM -07:00", "20060102150405", "02 Jan 06 15:04 -0700", time.Stamp, "2006-002"}
	type row struct{ Layout, Value, Out string }
	var rows []row
	for i := 0; i < 300; i++ {
		sec := r.Int63n(4102444800) - 2208988800
		loc, _ := time.LoadLocation(zones[i%len(zones)])
		l := layouts[i%len(layouts)]
		v := time.Unix(sec, r.Int63n(1e9)).In(loc).Format(l)
		t, err := time.ParseInLocation(l, v, time.UTC)
		out := t.String()
		if err != nil {
			out = "ERR"
		}
		rows = append(rows, row{l, v, out})
	}
	json.NewEncoder(os.Stdout).Encode(rows)
}
