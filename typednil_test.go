package teamperm_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/teamperm/teamperm"
)

// TestTypedNilErrors: a nil *Error or *DecisionError returned as an error
// (a common Go mistake in host code) does not panic anywhere, carries no
// code and wraps no sentinel, alone, wrapped or joined; a host's HTTP layer
// answers it as an internal error.
func TestTypedNilErrors(t *testing.T) {
	var coded *teamperm.Error
	var decision *teamperm.DecisionError
	for _, base := range []error{coded, decision} {
		for _, err := range []error{
			base,
			fmt.Errorf("host: %w", base),
			fmt.Errorf("host: %w", fmt.Errorf("again: %w", base)),
			errors.Join(errors.New("host"), base),
		} {
			if got := teamperm.ErrorCode(err); got != "" {
				t.Errorf("ErrorCode(%v) = %q, want none", err, got)
			}
			for _, s := range []error{teamperm.ErrNotFound, teamperm.ErrForbidden, teamperm.ErrInvalidSettings, teamperm.ErrEditNotAllowed} {
				if errors.Is(err, s) {
					t.Errorf("%v wraps %v", err, s)
				}
			}
			var e *teamperm.Error
			if errors.As(err, &e) && e != nil {
				t.Errorf("errors.As(%v) found %v", err, e)
			}
			_ = err.Error()
		}
	}
}
