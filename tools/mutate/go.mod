module github.com/teamperm/teamperm/tools/mutate

go 1.24
