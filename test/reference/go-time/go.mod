module goref

go 1.22
