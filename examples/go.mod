module github.com/teamperm/teamperm/examples

go 1.24

require github.com/teamperm/teamperm v0.0.0

replace github.com/teamperm/teamperm => ../
