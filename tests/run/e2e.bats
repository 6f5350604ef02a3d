#!/usr/bin/env bats
# End-to-end tests written the way Kubewarden policy repositories write them for `kwctl run`
# (`run kwctl run ...`, `[ "$status" -eq 0 ]`, `expr` or `jq` on the output), with `kwctl`
# replaced by `admit run`. tests/run.rs runs this file with bats-core; ADMIT and POLICY come
# from there.

@test "accept a valid request" {
	run "$ADMIT" run --request-path test_data/pod_creation.json "$POLICY"
	[ "$status" -eq 0 ]
	echo "$output"
	[ $(expr "$output" : '.*"allowed":true.*') -ne 0 ]
}

@test "reject a request with the policy's message" {
	run "$ADMIT" run "$POLICY" -r test_data/pod_creation.json --settings-json '{"reject":"pod name nginx is not accepted"}'
	[ "$status" -eq 0 ]
	echo "$output"
	[ $(expr "$output" : '.*allowed.*false') -ne 0 ]
	[ $(expr "$output" : '.*"message":"pod name nginx is not accepted".*') -ne 0 ]
}

@test "mutate a request" {
	run bash -c "'$ADMIT' run -r test_data/pod_creation.json --settings-json '{\"label\":\"team\"}' '$POLICY' | jq -r '.patchType'"
	[ "$status" -eq 0 ]
	echo "$output"
	[ "$output" = "JSONPatch" ]
}

@test "allowed is readable with jq" {
	run bash -c "'$ADMIT' run -r test_data/pod_creation.json '$POLICY' | jq -r '.allowed'"
	[ "$status" -eq 0 ]
	[ "$output" = "true" ]
}

@test "refuse invalid settings" {
	run "$ADMIT" run --request-path test_data/pod_creation.json --settings-json '{"invalid":"labels must be a list"}' "$POLICY"
	[ "$status" -eq 1 ]
	echo "$output"
	[ $(expr "$output" : '.*Provided settings are not valid: labels must be a list.*') -ne 0 ]
}
