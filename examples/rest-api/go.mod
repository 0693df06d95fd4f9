module rest-api

go 1.25

require (
	go.bytecodealliance.org/pkg v0.4.0
	wit v0.0.0
)

// Both live in build/, written by `fn0 build` (see README.md): the Go
// bindings of the wasi:http world, and the runtime package they use (it
// ships with wit-bindgen, not on the Go module proxy).
replace (
	go.bytecodealliance.org/pkg => ./build/go-wit-runtime
	wit => ./build/wit
)
