module github.com/teamperm/teamperm/schema

go 1.24

require (
	github.com/santhosh-tekuri/jsonschema/v6 v6.0.3
	github.com/teamperm/teamperm v0.0.0
	pgregory.net/rapid v1.3.0
)

require golang.org/x/text v0.14.0 // indirect

replace github.com/teamperm/teamperm => ../
