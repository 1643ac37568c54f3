package protocol

import "fmt"

// Error is a rule violation. Code is the dwn-sdk-js DwnErrorCode name, so a
// caller can switch on it and map it to a reply status.
type Error struct {
	Code    string
	Message string
}

// Error returns "Code: Message", the reference's DwnError text.
func (e *Error) Error() string { return e.Code + ": " + e.Message }

func errf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Error codes, named as in dwn-sdk-js 0.5.2 src/core/dwn-error.ts.
const (
	CodeSchemaValidatorFailure                      = "SchemaValidatorFailure"
	CodeSchemaValidatorAdditionalPropertyNotAllowed = "SchemaValidatorAdditionalPropertyNotAllowed"
	CodeTimestampInvalid                            = "TimestampInvalid"
	CodeURLProtocolNotNormalized                    = "UrlProtocolNotNormalized"
	CodeURLProtocolNotNormalizable                  = "UrlProtocolNotNormalizable"
	CodeURLSchemaNotNormalized                      = "UrlSchemaNotNormalized"

	CodeProtocolsConfigureDuplicateActorInRuleSet          = "ProtocolsConfigureDuplicateActorInRuleSet"
	CodeProtocolsConfigureDuplicateRoleInRuleSet           = "ProtocolsConfigureDuplicateRoleInRuleSet"
	CodeProtocolsConfigureInvalidSize                      = "ProtocolsConfigureInvalidSize"
	CodeProtocolsConfigureInvalidActionMissingOf           = "ProtocolsConfigureInvalidActionMissingOf"
	CodeProtocolsConfigureInvalidActionOfNotAllowed        = "ProtocolsConfigureInvalidActionOfNotAllowed"
	CodeProtocolsConfigureInvalidActionDeleteWithoutCreate = "ProtocolsConfigureInvalidActionDeleteWithoutCreate"
	CodeProtocolsConfigureInvalidActionUpdateWithoutCreate = "ProtocolsConfigureInvalidActionUpdateWithoutCreate"
	CodeProtocolsConfigureInvalidRecipientOfAction         = "ProtocolsConfigureInvalidRecipientOfAction"
	CodeProtocolsConfigureInvalidRuleSetRecordType         = "ProtocolsConfigureInvalidRuleSetRecordType"
	CodeProtocolsConfigureInvalidTagSchema                 = "ProtocolsConfigureInvalidTagSchema"
	CodeProtocolsConfigureRecordNestingDepthExceeded       = "ProtocolsConfigureRecordNestingDepthExceeded"
	CodeProtocolsConfigureRoleDoesNotExistAtGivenPath      = "ProtocolsConfigureRoleDoesNotExistAtGivenPath"
	CodeProtocolsConfigureRoleReadActionMissing            = "ProtocolsConfigureRoleReadActionMissing"

	CodeProtocolAuthorizationActionNotAllowed             = "ProtocolAuthorizationActionNotAllowed"
	CodeProtocolAuthorizationActionRulesNotFound          = "ProtocolAuthorizationActionRulesNotFound"
	CodeProtocolAuthorizationIncorrectDataFormat          = "ProtocolAuthorizationIncorrectDataFormat"
	CodeProtocolAuthorizationIncorrectContextID           = "ProtocolAuthorizationIncorrectContextId"
	CodeProtocolAuthorizationIncorrectProtocolPath        = "ProtocolAuthorizationIncorrectProtocolPath"
	CodeProtocolAuthorizationDuplicateRoleRecipient       = "ProtocolAuthorizationDuplicateRoleRecipient"
	CodeProtocolAuthorizationInvalidSchema                = "ProtocolAuthorizationInvalidSchema"
	CodeProtocolAuthorizationInvalidType                  = "ProtocolAuthorizationInvalidType"
	CodeProtocolAuthorizationMatchingRoleRecordNotFound   = "ProtocolAuthorizationMatchingRoleRecordNotFound"
	CodeProtocolAuthorizationMaxSizeInvalid               = "ProtocolAuthorizationMaxSizeInvalid"
	CodeProtocolAuthorizationMinSizeInvalid               = "ProtocolAuthorizationMinSizeInvalid"
	CodeProtocolAuthorizationMissingContextID             = "ProtocolAuthorizationMissingContextId"
	CodeProtocolAuthorizationMissingRuleSet               = "ProtocolAuthorizationMissingRuleSet"
	CodeProtocolAuthorizationParentlessIncorrectProtoPath = "ProtocolAuthorizationParentlessIncorrectProtocolPath"
	CodeProtocolAuthorizationNotARole                     = "ProtocolAuthorizationNotARole"
	CodeProtocolAuthorizationProtocolNotFound             = "ProtocolAuthorizationProtocolNotFound"
	CodeProtocolAuthorizationRoleMissingRecipient         = "ProtocolAuthorizationRoleMissingRecipient"
	CodeProtocolAuthorizationTagsInvalidSchema            = "ProtocolAuthorizationTagsInvalidSchema"

	CodeGrantAuthorizationGrantExpired        = "GrantAuthorizationGrantExpired"
	CodeGrantAuthorizationGrantMissing        = "GrantAuthorizationGrantMissing"
	CodeGrantAuthorizationGrantRevoked        = "GrantAuthorizationGrantRevoked"
	CodeGrantAuthorizationInterfaceMismatch   = "GrantAuthorizationInterfaceMismatch"
	CodeGrantAuthorizationMethodMismatch      = "GrantAuthorizationMethodMismatch"
	CodeGrantAuthorizationNotGrantedForTenant = "GrantAuthorizationNotGrantedForTenant"
	CodeGrantAuthorizationNotGrantedToAuthor  = "GrantAuthorizationNotGrantedToAuthor"
	CodeGrantAuthorizationGrantNotYetActive   = "GrantAuthorizationGrantNotYetActive"

	CodeRecordsGrantAuthorizationConditionPublicationProhibited        = "RecordsGrantAuthorizationConditionPublicationProhibited"
	CodeRecordsGrantAuthorizationConditionPublicationRequired          = "RecordsGrantAuthorizationConditionPublicationRequired"
	CodeRecordsGrantAuthorizationDeleteProtocolScopeMismatch           = "RecordsGrantAuthorizationDeleteProtocolScopeMismatch"
	CodeRecordsGrantAuthorizationQueryOrSubscribeProtocolScopeMismatch = "RecordsGrantAuthorizationQueryOrSubscribeProtocolScopeMismatch"
	CodeRecordsGrantAuthorizationScopeContextIDMismatch                = "RecordsGrantAuthorizationScopeContextIdMismatch"
	CodeRecordsGrantAuthorizationScopeProtocolMismatch                 = "RecordsGrantAuthorizationScopeProtocolMismatch"
	CodeRecordsGrantAuthorizationScopeProtocolPathMismatch             = "RecordsGrantAuthorizationScopeProtocolPathMismatch"
	CodeProtocolsGrantAuthorizationQueryProtocolScopeMismatch          = "ProtocolsGrantAuthorizationQueryProtocolScopeMismatch"
	CodeProtocolsGrantAuthorizationScopeProtocolMismatch               = "ProtocolsGrantAuthorizationScopeProtocolMismatch"
	CodeMessagesGrantAuthorizationMismatchedProtocol                   = "MessagesGrantAuthorizationMismatchedProtocol"
	CodeMessagesReadVerifyScopeFailed                                  = "MessagesReadVerifyScopeFailed"

	CodePermissionsProtocolValidateSchemaUnexpectedRecord             = "PermissionsProtocolValidateSchemaUnexpectedRecord"
	CodePermissionsProtocolValidateScopeContextIDProhibitedProperties = "PermissionsProtocolValidateScopeContextIdProhibitedProperties"
	CodePermissionsProtocolValidateScopeProtocolMismatch              = "PermissionsProtocolValidateScopeProtocolMismatch"
	CodePermissionsProtocolValidateScopeMissingProtocolTag            = "PermissionsProtocolValidateScopeMissingProtocolTag"
	CodePermissionsProtocolValidateRevocationProtocolTagMismatch      = "PermissionsProtocolValidateRevocationProtocolTagMismatch"
)
