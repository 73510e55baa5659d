// Built by test/testbed/provision.sh (tool eso-template), which pins ESO and ESO's Sprig fork to
// ESO_BENCH_VERSION and ESO_SPRIG_VERSION of test/testbed/versions.env; run `go get` there, not here.
module local.ferry/eso-template

go 1.24.2

require github.com/external-secrets/external-secrets v0.16.2

// As ESO's own go.mod: a dependency's replace directives are ignored, so the wrapper names it again.
replace github.com/Masterminds/sprig/v3 => github.com/external-secrets/sprig/v3 v3.3.0
