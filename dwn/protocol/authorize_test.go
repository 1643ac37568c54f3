package protocol

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
)

// threadDef is a 3-level protocol exercising every rule kind.
const threadDef = `{
 "protocol": "https://example.com/thread", "published": true,
 "types": {
  "thread": {"schema": "https://example.com/thread", "dataFormats": ["application/json"]},
  "participant": {}, "admin": {}, "message": {"dataFormats": ["text/plain"]}, "reply": {}, "note": {}
 },
 "structure": {
  "admin": {"$role": true, "$actions": [{"who": "anyone", "can": ["read"]}]},
  "note": {"$actions": [{"who": "anyone", "can": ["create", "prune"]}]},
  "thread": {
   "$actions": [{"who": "anyone", "can": ["create"]}, {"role": "admin", "can": ["create", "update", "delete", "co-delete", "read", "query", "subscribe"]}],
   "participant": {"$role": true, "$actions": [{"who": "author", "of": "thread", "can": ["create", "update"]}]},
   "message": {
    "$size": {"min": 1, "max": 100},
    "$tags": {"$requiredTags": ["kind"], "kind": {"type": "string", "enum": ["text", "image"]}},
    "$actions": [
     {"who": "recipient", "of": "thread", "can": ["create", "read"]},
     {"who": "author", "of": "thread", "can": ["create", "read", "co-delete"]},
     {"who": "recipient", "can": ["co-update", "co-delete"]},
     {"role": "thread/participant", "can": ["create", "read", "query", "subscribe"]}
    ],
    "reply": {"$actions": [{"who": "author", "of": "thread/message", "can": ["create"]}, {"who": "recipient", "of": "thread/message", "can": ["read"]}]}
   }
  }
 }
}`

func mustDef(t testing.TB, raw string) *Definition {
	t.Helper()
	d, err := ParseDefinition(json.RawMessage(raw))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

var (
	thread  = Record{RecordID: "t1", ContextID: "t1", ProtocolPath: "thread", Author: "did:alice", Recipient: "did:bob"}
	message = Record{RecordID: "m1", ContextID: "t1/m1", ParentID: "t1", ProtocolPath: "thread/message", Author: "did:carol", Recipient: "did:dave", DataFormat: "text/plain", DataSize: 10, Tags: map[string]any{"kind": "text"}}
	reply   = Record{RecordID: "r1", ContextID: "t1/m1/r1", ParentID: "m1", ProtocolPath: "thread/message/reply", Author: "did:dave"}
)

func roles(have ...string) func(string, string, string) (bool, error) {
	return func(path, prefix, recipient string) (bool, error) {
		for _, h := range have {
			if h == fmt.Sprintf("%s|%s|%s", path, prefix, recipient) {
				return true, nil
			}
		}
		return false, nil
	}
}

func TestAuthorize(t *testing.T) {
	d := mustDef(t, threadDef)
	msgCreate := func(author string) Request {
		return Request{Action: ActionCreate, Author: author, Write: &message, Ancestors: []Record{thread}}
	}
	cases := []struct {
		name string
		req  Request
		code string
	}{
		{"anyone creates root", Request{Action: ActionCreate, Author: "did:x", Write: &thread}, ""},
		{"anonymous anyone creates root", Request{Action: ActionCreate, Write: &thread}, ""},
		{"anyone may not read thread", Request{Action: ActionRead, Author: "did:x", Target: &thread}, CodeProtocolAuthorizationActionNotAllowed},
		{"recipient of thread creates message", msgCreate("did:bob"), ""},
		{"author of thread creates message", msgCreate("did:alice"), ""},
		{"stranger creates message", msgCreate("did:x"), CodeProtocolAuthorizationActionNotAllowed},
		{"anonymous creates message", msgCreate(""), CodeProtocolAuthorizationActionNotAllowed},
		{"recipient of thread reads message", Request{Action: ActionRead, Author: "did:bob", Target: &message, Ancestors: []Record{thread}}, ""},
		{"stranger reads message", Request{Action: ActionRead, Author: "did:x", Target: &message, Ancestors: []Record{thread}}, CodeProtocolAuthorizationActionNotAllowed},
		{"recipient of message co-updates", Request{Action: ActionUpdate, Author: "did:dave", Write: &Record{RecordID: "m1", ContextID: "t1/m1", ProtocolPath: "thread/message", Recipient: "did:dave"}, Target: &message, Ancestors: []Record{thread}}, ""},
		{"author updates own message without update rule", Request{Action: ActionUpdate, Author: "did:carol", Write: &message, Target: &message, Ancestors: []Record{thread}}, CodeProtocolAuthorizationActionNotAllowed},
		{"recipient of message co-deletes", Request{Action: ActionDelete, Author: "did:dave", Target: &message, Ancestors: []Record{thread}}, ""},
		{"thread author co-deletes message", Request{Action: ActionDelete, Author: "did:alice", Target: &message, Ancestors: []Record{thread}}, ""},
		{"stranger deletes message", Request{Action: ActionDelete, Author: "did:x", Target: &message, Ancestors: []Record{thread}}, CodeProtocolAuthorizationActionNotAllowed},
		{"update without target", Request{Action: ActionUpdate, Author: "did:dave", Write: &message}, CodeProtocolAuthorizationActionNotAllowed},
		{"author of message creates reply (3 levels)", Request{Action: ActionCreate, Author: "did:carol", Write: &reply, Ancestors: []Record{thread, message}}, ""},
		{"recipient of message reads reply", Request{Action: ActionRead, Author: "did:dave", Target: &reply, Ancestors: []Record{thread, message}}, ""},
		{"other reads reply", Request{Action: ActionRead, Author: "did:bob", Target: &reply, Ancestors: []Record{thread, message}}, CodeProtocolAuthorizationActionNotAllowed},
		{"thread author creates participant", Request{Action: ActionCreate, Author: "did:alice", Write: &Record{ContextID: "t1/p1", ProtocolPath: "thread/participant", Recipient: "did:p"}, Ancestors: []Record{thread}}, ""},
		{"prune by anyone rule", Request{Action: ActionPrune, Author: "did:x", Target: &Record{ProtocolPath: "note", Author: "did:x"}}, ""},
		{"co-prune not granted", Request{Action: ActionPrune, Author: "did:y", Target: &Record{ProtocolPath: "note", Author: "did:x"}}, CodeProtocolAuthorizationActionNotAllowed},
		{"no $actions", Request{Action: ActionCreate, Author: "did:x", Write: &Record{ProtocolPath: "thread/participant/none"}}, CodeProtocolAuthorizationMissingRuleSet},
		{"rule set missing", Request{Action: ActionRead, Author: "did:x", Target: &Record{ProtocolPath: "nope"}}, CodeProtocolAuthorizationMissingRuleSet},
		// roles
		{"context role creates message", Request{Action: ActionCreate, Author: "did:p", ProtocolRole: "thread/participant", Write: &message, Ancestors: []Record{thread}, HasRole: roles("thread/participant|t1|did:p")}, ""},
		{"context role queries", Request{Action: ActionQuery, Author: "did:p", ProtocolRole: "thread/participant", ProtocolPath: "thread/message", ContextID: "t1", HasRole: roles("thread/participant|t1|did:p")}, ""},
		{"context role subscribe with deeper context", Request{Action: ActionSubscribe, Author: "did:p", ProtocolRole: "thread/participant", ProtocolPath: "thread/message", ContextID: "t1/m1", HasRole: roles("thread/participant|t1|did:p")}, ""},
		{"context role in other thread", Request{Action: ActionQuery, Author: "did:p", ProtocolRole: "thread/participant", ProtocolPath: "thread/message", ContextID: "t2", HasRole: roles("thread/participant|t1|did:p")}, CodeProtocolAuthorizationMatchingRoleRecordNotFound},
		{"context role without contextId", Request{Action: ActionQuery, Author: "did:p", ProtocolRole: "thread/participant", ProtocolPath: "thread/message", HasRole: roles("thread/participant|t1|did:p")}, CodeProtocolAuthorizationMissingContextID},
		{"role path is not a role", Request{Action: ActionQuery, Author: "did:p", ProtocolRole: "thread", ProtocolPath: "thread/message", ContextID: "t1"}, CodeProtocolAuthorizationNotARole},
		{"role path does not exist", Request{Action: ActionQuery, Author: "did:p", ProtocolRole: "nope", ProtocolPath: "thread"}, CodeProtocolAuthorizationNotARole},
		{"root role queries threads", Request{Action: ActionQuery, Author: "did:adm", ProtocolRole: "admin", ProtocolPath: "thread", HasRole: roles("admin||did:adm")}, ""},
		{"root role record missing", Request{Action: ActionQuery, Author: "did:adm", ProtocolRole: "admin", ProtocolPath: "thread"}, CodeProtocolAuthorizationMatchingRoleRecordNotFound},
		{"root role co-deletes thread", Request{Action: ActionDelete, Author: "did:adm", ProtocolRole: "admin", Target: &thread, HasRole: roles("admin||did:adm")}, ""},
		{"role without matching role rule", Request{Action: ActionRead, Author: "did:adm", ProtocolRole: "admin", Target: &message, Ancestors: []Record{thread}, HasRole: roles("admin||did:adm")}, CodeProtocolAuthorizationActionNotAllowed},
		{"invoking a role skips who rules", Request{Action: ActionRead, Author: "did:bob", ProtocolRole: "admin", Target: &message, Ancestors: []Record{thread}, HasRole: roles("admin||did:bob")}, CodeProtocolAuthorizationActionNotAllowed},
		{"anyone rule still applies with role", Request{Action: ActionRead, Author: "did:adm", ProtocolRole: "admin", Target: &Record{ProtocolPath: "admin"}, HasRole: roles("admin||did:adm")}, ""},
		{"who rule cannot query", Request{Action: ActionQuery, Author: "did:bob", ProtocolPath: "thread/message", ContextID: "t1"}, CodeProtocolAuthorizationActionNotAllowed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := codeOf(d.Authorize(c.req)); got != c.code {
				t.Fatalf("code = %q (%v), want %q", got, d.Authorize(c.req), c.code)
			}
		})
	}
}

func TestAuthorizeRulesNotFound(t *testing.T) {
	d := mustDef(t, `{"protocol":"https://e.com/p","published":false,"types":{"a":{}},"structure":{"a":{}}}`)
	err := d.Authorize(Request{Action: ActionCreate, Author: "did:x", Write: &Record{ProtocolPath: "a"}})
	if codeOf(err) != CodeProtocolAuthorizationActionRulesNotFound {
		t.Fatal(err)
	}
}

func TestAuthorizeRoleWithStrayWho(t *testing.T) {
	// The reference's schema lets a role rule carry "who"; "anyone" then wins.
	d := mustDef(t, `{"protocol":"https://e.com/p","published":false,"types":{"a":{},"r":{}},"structure":{"r":{"$role":true},"a":{"$actions":[{"role":"r","who":"anyone","can":["create"]}]}}}`)
	if err := d.Authorize(Request{Action: ActionCreate, Write: &Record{ProtocolPath: "a"}}); err != nil {
		t.Fatal(err)
	}
}

func TestCheckWrite(t *testing.T) {
	d := mustDef(t, threadDef)
	ok := message
	cases := []struct {
		name string
		mod  func(r *Record)
		code string
	}{
		{"ok", func(r *Record) {}, ""},
		{"undeclared type", func(r *Record) { r.ProtocolPath = "thread/bogus" }, CodeProtocolAuthorizationInvalidType},
		{"wrong data format", func(r *Record) { r.DataFormat = "application/json" }, CodeProtocolAuthorizationIncorrectDataFormat},
		{"schema required", func(r *Record) { *r = thread; r.DataFormat = "application/json" }, CodeProtocolAuthorizationInvalidSchema},
		{"schema matches", func(r *Record) {
			*r = thread
			r.DataFormat = "application/json"
			r.Schema = "https://example.com/thread"
		}, ""},
		{"parentless nested path", func(r *Record) { r.ParentID = "" }, CodeProtocolAuthorizationParentlessIncorrectProtoPath},
		{"parent with root path", func(r *Record) {
			*r = thread
			r.Schema = "https://example.com/thread"
			r.DataFormat = "application/json"
			r.ParentID = "x"
		}, CodeProtocolAuthorizationIncorrectProtocolPath},
		{"type declared but no rule set at path", func(r *Record) { r.ProtocolPath = "thread/message/participant" }, CodeProtocolAuthorizationMissingRuleSet},
		{"role record without recipient", func(r *Record) { *r = Record{ProtocolPath: "thread/participant", ParentID: "t1"} }, CodeProtocolAuthorizationRoleMissingRecipient},
		{"too small", func(r *Record) { r.DataSize = 0 }, CodeProtocolAuthorizationMinSizeInvalid},
		{"too big", func(r *Record) { r.DataSize = 101 }, CodeProtocolAuthorizationMaxSizeInvalid},
		{"size at max", func(r *Record) { r.DataSize = 100 }, ""},
		{"required tag missing", func(r *Record) { r.Tags = nil }, CodeProtocolAuthorizationTagsInvalidSchema},
		{"tag not in enum", func(r *Record) { r.Tags = map[string]any{"kind": "video"} }, CodeProtocolAuthorizationTagsInvalidSchema},
		{"undefined tag", func(r *Record) { r.Tags = map[string]any{"kind": "text", "x": 1} }, CodeProtocolAuthorizationTagsInvalidSchema},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := ok
			c.mod(&r)
			if got := codeOf(d.CheckWrite(r)); got != c.code {
				t.Fatalf("code = %q (%v), want %q", got, d.CheckWrite(r), c.code)
			}
		})
	}
}

func TestCheckTagsGoValues(t *testing.T) {
	d := mustDef(t, `{"protocol":"https://e.com/p","published":false,"types":{"a":{}},"structure":{"a":{"$tags":{"n":{"type":"integer","maximum":5},"l":{"type":"array","items":{"type":"string"}}}}}}`)
	if err := d.CheckWrite(Record{ProtocolPath: "a", Tags: map[string]any{"n": 3, "l": []string{"x"}}}); err != nil {
		t.Fatal(err)
	}
	if err := d.CheckWrite(Record{ProtocolPath: "a", Tags: map[string]any{"n": int64(6)}}); codeOf(err) != CodeProtocolAuthorizationTagsInvalidSchema {
		t.Fatal(err)
	}
}

func TestCheckParent(t *testing.T) {
	if err := CheckParent(message, &thread); err != nil {
		t.Fatal(err)
	}
	if err := CheckParent(thread, nil); err != nil {
		t.Fatal(err)
	}
	if codeOf(CheckParent(message, nil)) != CodeProtocolAuthorizationIncorrectProtocolPath {
		t.Fatal("missing parent accepted")
	}
	if codeOf(CheckParent(reply, &thread)) != CodeProtocolAuthorizationIncorrectProtocolPath {
		t.Fatal("wrong parent path accepted")
	}
	bad := message
	bad.ContextID = "t2/m1"
	if codeOf(CheckParent(bad, &thread)) != CodeProtocolAuthorizationIncorrectContextID {
		t.Fatal("wrong contextId accepted")
	}
	if RoleContextPrefix("t1/p1") != "t1" || RoleContextPrefix("a") != "" {
		t.Fatal("RoleContextPrefix")
	}
}

func TestRuleSetAndRoles(t *testing.T) {
	d := mustDef(t, threadDef)
	rs, ok := d.RuleSet("thread/message/reply")
	if !ok || rs.Path != "thread/message/reply" || len(rs.Actions) != 2 {
		t.Fatalf("RuleSet = %+v %v", rs, ok)
	}
	if _, ok := d.RuleSet("thread/nope"); ok {
		t.Fatal("found missing path")
	}
	got := fmt.Sprint(d.RolePaths())
	if got != "[admin thread/participant]" {
		t.Fatal(got)
	}
	if e := (&Error{Code: "C", Message: "m"}).Error(); e != "C: m" {
		t.Fatal(e)
	}
}

func BenchmarkAuthorize3Level(b *testing.B) {
	d := mustDef(b, threadDef)
	req := Request{Action: ActionCreate, Author: "did:carol", Write: &reply, Ancestors: []Record{thread, message}}
	b.ReportAllocs()
	for b.Loop() {
		if err := d.Authorize(req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAuthorize3LevelRole(b *testing.B) {
	d := mustDef(b, threadDef)
	req := Request{Action: ActionCreate, Author: "did:p", ProtocolRole: "thread/participant", Write: &message, Ancestors: []Record{thread}, HasRole: roles("thread/participant|t1|did:p")}
	b.ReportAllocs()
	for b.Loop() {
		if err := d.Authorize(req); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzParseDefinition(f *testing.F) {
	f.Add([]byte(threadDef))
	f.Add([]byte(permissionsDefinitionJSON))
	f.Add([]byte(`{"protocol":"https://e.com/p","published":true,"types":{"a":{}},"structure":{"a":{"$tags":{"l":{"type":"array","items":{"pattern":"["}}}}}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ParseDefinition(data)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code == "" {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		for _, p := range []string{"a", "a/a", "thread/message"} {
			if rs, ok := d.RuleSet(p); ok {
				_ = d.CheckWrite(Record{ProtocolPath: p, Tags: map[string]any{"a": []any{1.0, "x"}}})
				_ = d.Authorize(Request{Action: ActionRead, Author: "did:x", ProtocolRole: p, Target: &Record{ProtocolPath: p}, Ancestors: []Record{{ProtocolPath: "a"}}})
				_ = rs
			}
		}
	})
}
