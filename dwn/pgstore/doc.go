// Package pgstore keeps a DWN's MessageStore, EventLog and DataStore in
// PostgreSQL (15 or later) through a pgx connection pool, for nodes that
// want a database server instead of the embedded pebble stores in package
// dwn. It passes the same conformance suite (dwn/storetest).
//
// Schema, created by Open (version 1, recorded in dwn_schema_version):
//
//	dwn_messages       one row per message: tenant, cid, message bytes,
//	                   encodedData, indexes (JSONB) and the sort columns
//	                   message_timestamp, date_created, date_published
//	dwn_message_index  one row per indexed scalar (per array element):
//	                   prop and value_text | value_num | value_bool, with the
//	                   message's sort columns and cid copied in, indexed as
//	                   (tenant, prop, value, sort column, cid) per sort column
//	                   and value kind, so "schema = x ORDER BY dateCreated,
//	                   cid LIMIT 20" is an index walk that stops after 21 rows
//	dwn_events         the event log; its bigserial is the watermark
//	dwn_event_index    the events' indexed scalars, for filters
//	dwn_data           one manifest row per visible data item
//	dwn_data_chunks    the data in 256 KiB chunks
//
// Strings compare bytewise (columns use the "C" collation) and numbers are
// double precision, as JavaScript's are. PostgreSQL text cannot hold a NUL
// byte or invalid UTF-8, so such strings are rejected where they would be
// stored or compared. Sort property values must be strings.
package pgstore
