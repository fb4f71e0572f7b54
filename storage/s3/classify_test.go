package s3_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/brightspots-nic/brightspots/storage"
	"github.com/brightspots-nic/brightspots/storage/s3"
)

// A 409 "conditional write in flight" is a lost compare-and-swap but says nothing about whether the
// key will exist: it must be told apart from a 412 (the key exists), so the change log can ask again.
func TestClassifyWriteInFlight(t *testing.T) {
	for _, tc := range []struct {
		name               string
		resp               minio.ErrorResponse
		conflict, inFlight bool
	}{
		{"412 exists", minio.ErrorResponse{StatusCode: http.StatusPreconditionFailed, Code: "PreconditionFailed"}, true, false},
		{"409 in flight", minio.ErrorResponse{StatusCode: http.StatusConflict, Code: "ConditionalRequestConflict",
			Message: "A conflicting conditional operation is currently in progress against this resource."}, true, true},
		{"409 other", minio.ErrorResponse{StatusCode: http.StatusConflict, Code: "BucketNotEmpty", Message: "The bucket you tried to delete is not empty"}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s3.Classify(tc.resp, false)
			if got := errors.Is(err, storage.ErrConflict); got != tc.conflict {
				t.Errorf("ErrConflict = %v, want %v (%v)", got, tc.conflict, err)
			}
			if got := errors.Is(err, storage.ErrInFlight); got != tc.inFlight {
				t.Errorf("ErrInFlight = %v, want %v (%v)", got, tc.inFlight, err)
			}
		})
	}
}
