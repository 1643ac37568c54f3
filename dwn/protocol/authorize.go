package protocol

import (
	"slices"
	"strings"
)

// Request is one Records message to authorize against a protocol's rules,
// after the tenant, owner and permission-grant paths have failed (dwn.md
// §4.1 order).
type Request struct {
	// Action is what the message does: "create" (initial RecordsWrite),
	// "update" (a later RecordsWrite), "delete", "prune" (RecordsDelete
	// with prune), "read", "query", "subscribe". "co-update", "co-delete"
	// and "co-prune" may be given to seek only that action. For update,
	// delete and prune the author of Target decides whether the plain
	// action also applies, as in the reference.
	Action string
	// Tenant is the DWN owner; Author the message's author ("" when the
	// message is unsigned); ProtocolRole the invoked protocolRole, if any.
	Tenant, Author, ProtocolRole string
	// Write is the incoming RecordsWrite (create, update).
	Write *Record
	// Target is the existing record acted on: for update its initial
	// write; for read and delete the record (its initial write).
	Target *Record
	// Ancestors is the chain of initial writes from the root record to the
	// direct parent of the record (create: of Write; otherwise of Target).
	Ancestors []Record
	// ProtocolPath and ContextID name the rule set and context of a query
	// or subscribe (its filter); for other actions they are taken from
	// Write or Target when empty.
	ProtocolPath, ContextID string
	// HasRole reports whether a live role record at rolePath exists whose
	// recipient is recipient, limited to contextIds starting with
	// contextIDPrefix when that is not "" (a context role). Nil means no
	// role record exists.
	HasRole func(rolePath, contextIDPrefix, recipient string) (bool, error)
}

func (req *Request) record() *Record {
	if req.Write != nil {
		return req.Write
	}
	return req.Target
}

// Authorize applies the reference's protocol authorization for Records
// messages (ProtocolAuthorization.authorizeWrite, authorizeRead,
// authorizeDelete, authorizeQueryOrSubscribe): the rule set at the
// record's path, the invoked role, then the $actions rules (who/of/can,
// recipient and author of ancestors, co-* actions, role rules).
func (d *Definition) Authorize(req Request) error {
	protocolPath, contextID := req.ProtocolPath, req.ContextID
	if rec := req.record(); rec != nil {
		if protocolPath == "" {
			protocolPath = rec.ProtocolPath
		}
		if contextID == "" {
			contextID = rec.ContextID
		}
	}
	rs, ok := d.RuleSet(protocolPath)
	if !ok {
		return errf(CodeProtocolAuthorizationMissingRuleSet, "No rule set defined for protocolPath %s", protocolPath)
	}
	if err := d.verifyInvokedRole(req, contextID); err != nil {
		return err
	}
	return rs.authorizeActions(req)
}

func (d *Definition) verifyInvokedRole(req Request, contextID string) error {
	role := req.ProtocolRole
	if role == "" {
		return nil
	}
	roleRS, ok := d.RuleSet(role)
	if !ok || !roleRS.Role {
		return errf(CodeProtocolAuthorizationNotARole, "Protocol path %s does not match role record type.", role)
	}
	ancestors := strings.Count(role, "/")
	if contextID == "" && ancestors > 0 {
		return errf(CodeProtocolAuthorizationMissingContextID, "Could not verify role because contextId is missing.")
	}
	prefix := ""
	if ancestors > 0 {
		segs := strings.Split(contextID, "/")
		prefix = strings.Join(segs[:min(ancestors, len(segs))], "/")
	}
	found := false
	if req.HasRole != nil {
		var err error
		if found, err = req.HasRole(role, prefix, req.Author); err != nil {
			return err
		}
	}
	if !found {
		return errf(CodeProtocolAuthorizationMatchingRoleRecordNotFound, "No matching role record found for protocol path %s", role)
	}
	return nil
}

// actionsSeeking mirrors getActionsSeekingARuleMatch.
func (req *Request) actionsSeeking() []string {
	ownsTarget := req.Target != nil && req.Author != "" && req.Author == req.Target.Author
	switch req.Action {
	case ActionCreate, ActionRead, ActionQuery, ActionSubscribe, ActionCoUpdate, ActionCoDelete, ActionCoPrune:
		return []string{req.Action}
	case ActionUpdate:
		if req.Target == nil {
			return nil
		}
		if ownsTarget {
			return []string{ActionCoUpdate, ActionUpdate}
		}
		return []string{ActionCoUpdate}
	case ActionDelete, ActionPrune:
		if req.Target == nil {
			return nil
		}
		co := "co-" + req.Action
		if ownsTarget {
			return []string{co, req.Action}
		}
		return []string{co}
	}
	return nil
}

func isWriteAction(a string) bool {
	return a == ActionCreate || a == ActionUpdate || a == ActionCoUpdate
}

func (rs *RuleSet) authorizeActions(req Request) error {
	method := methodName(req.Action)
	if rs.Actions == nil {
		return errf(CodeProtocolAuthorizationActionRulesNotFound, "no action rule defined for Records%s, %s is unauthorized", method, req.Author)
	}
	seeking := req.actionsSeeking()
	// The record chain: the ancestors, then the record itself unless it is
	// being created. Queries have no chain.
	var chain []Record
	if req.Action != ActionQuery && req.Action != ActionSubscribe {
		chain = req.Ancestors
		if req.Action != ActionCreate && req.Target != nil {
			chain = append(slices.Clip(chain), *req.Target)
		}
	}
	for _, rule := range rs.Actions {
		if !slices.ContainsFunc(rule.Can, func(a string) bool { return slices.Contains(seeking, a) }) {
			continue
		}
		if rule.Who == ActorAnyone {
			return nil
		}
		if req.Author == "" {
			continue
		}
		if req.ProtocolRole != "" {
			if rule.Role == req.ProtocolRole {
				return nil
			}
			continue
		}
		if rule.Who == ActorRecipient && !rule.HasOf {
			var rec *Record
			if isWriteAction(req.Action) {
				rec = req.Write
			} else if len(chain) > 0 {
				rec = &chain[len(chain)-1]
			}
			if rec != nil && rec.Recipient == req.Author {
				return nil
			}
			continue
		}
		if checkActor(req.Author, rule, chain) {
			return nil
		}
	}
	return errf(CodeProtocolAuthorizationActionNotAllowed, "Inbound message action Records%s by author %s not allowed.", method, req.Author)
}

// checkActor: the first record in the chain at rule.Of must have the
// author as its recipient (who: recipient) or its author (who: author).
func checkActor(author string, rule ActionRule, chain []Record) bool {
	if !rule.HasOf {
		return false
	}
	for i := range chain {
		if chain[i].ProtocolPath != rule.Of {
			continue
		}
		if rule.Who == ActorRecipient {
			return author == chain[i].Recipient
		}
		return author == chain[i].Author
	}
	return false
}

func methodName(action string) string {
	switch action {
	case ActionCreate, ActionUpdate, ActionCoUpdate:
		return "Write"
	case ActionDelete, ActionPrune, ActionCoDelete, ActionCoPrune:
		return "Delete"
	case ActionRead:
		return "Read"
	case ActionQuery:
		return "Query"
	case ActionSubscribe:
		return "Subscribe"
	}
	return action
}
