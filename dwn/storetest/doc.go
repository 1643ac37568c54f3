// Package storetest is the conformance suite every implementation of the
// dwn store interfaces passes: RunMessageStore, RunEventLog and
// RunDataStore take a function that opens a fresh, empty store and run the
// interface-level cases against it as subtests.
//
// Query results are checked against a brute-force oracle written here, not
// borrowed from package dwn, so a shared bug in dwn's matcher cannot hide.
// The oracle follows dwn-sdk-js: equality and ranges compare only values of
// one kind (numbers are JavaScript numbers, strings compare bytewise,
// booleans false < true); an array value matches when any element does.
package storetest
