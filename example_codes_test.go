package teamperm_test

import (
	"errors"
	"fmt"
	"log"

	"github.com/teamperm/teamperm"
)

// A settings page shows each refusal next to the control at fault, in its
// own words: the code says what is wrong, the field where.
func ExampleErrorCode() {
	body := []byte(`[{"op":"grant","permission":"chat.send"},{"op":"grant","permission":"contact.remove"}]`)
	_, err := teamperm.ParseEdits(body)
	var e *teamperm.Error
	if errors.As(err, &e) {
		fmt.Println(e.Code, e.Field)
	}
	fmt.Println(err) // the human message, for logs

	// Refusals of ApplyEdits carry codes too.
	org := teamperm.Organization{ID: teamperm.IntID(1), Features: teamperm.PlanStarter.Features()}
	ownerSettings := teamperm.Settings{Member: teamperm.IntID(1), Role: teamperm.RoleOwner}
	owner, err := teamperm.Compile(org, ownerSettings)
	if err != nil {
		log.Fatal(err)
	}
	agent := teamperm.Settings{Member: teamperm.IntID(42), Role: teamperm.RoleMember}
	_, _, err = teamperm.ApplyEdits(owner, org, agent, adminTime, teamperm.Grant{Permission: teamperm.ChatAssign})
	fmt.Println(teamperm.ErrorCode(err), errors.Is(err, teamperm.ErrUpgradeRequired))
	_, _, err = teamperm.ApplyEdits(owner, org, ownerSettings, adminTime, teamperm.SetRole{Role: teamperm.RoleAdmin})
	fmt.Println(teamperm.ErrorCode(err))
	// Output:
	// unknown_permission /1/permission
	// teamperm: permission "contact.remove": unknown permission (edit 1: invalid settings)
	// upgrade_required true
	// edit_self
}
