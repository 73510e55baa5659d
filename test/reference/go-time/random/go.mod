module gofuzz

go 1.22
