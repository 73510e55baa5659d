package main

import (
	"encoding/json"
	"math/rand"
	"os"
	"time"
)

func main() {
	r := rand.New(rand.NewSource(7))
	zones := []string{"UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata", "Australia/Lord_Howe", "America/St_Johns", "Pacific/Chatham", "Asia/Dubai", "Europe/London", "America/Sao_Paulo", "Africa/Casablanca", "Europe/Dublin"}
	layout := "2006-01-02T15:04:05.000000000 -07:00 MST Mon Monday Jan January 002 __2 _2 3PM 03pm 06 1 2"
	type row struct {
		Unix int64  `json:"unix"`
		Nano int64  `json:"nano"`
		Zone string `json:"zone"`
		Out  string `json:"out"`
	}
	var rows []row
	for i := 0; i < 400; i++ {
		sec := r.Int63n(4102444800) - 2208988800 // 1900..2100
		nano := r.Int63n(1e9)
		z := zones[i%len(zones)]
		loc, _ := time.LoadLocation(z)
		rows = append(rows, row{sec, nano, z, time.Unix(sec, nano).In(loc).Format(layout)})
	}
	json.NewEncoder(os.Stdout).Encode(rows)
}
