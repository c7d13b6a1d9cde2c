package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/gin-gonic/gin/binding"
	"github.com/go-playground/validator/v10"

	"github.com/sdkauth/sdkauth"
)

func init() {
	// Name fields in validation errors by their JSON names, as clients see them.
	if v, ok := binding.Validator.Engine().(*validator.Validate); ok {
		v.RegisterTagNameFunc(func(f reflect.StructField) string {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				return ""
			}
			return name
		})
	}
}

// decodeJSON reads a JSON body into v and validates it, turning every
// problem into a validation error that names the field.
func decodeJSON(c *gin.Context, v any) error {
	body, err := io.ReadAll(c.Request.Body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return tooLarge(tooBig.Limit)
	}
	if err != nil {
		return sdkauth.Invalid(sdkauth.FieldError{Name: "body", Reason: "could not be read"})
	}
	if err := json.Unmarshal(body, v); err != nil {
		return jsonError(err)
	}
	return validate(v)
}

func jsonError(err error) error {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) && typeErr.Field != "" {
		return sdkauth.Invalid(sdkauth.FieldError{Name: typeErr.Field, Reason: "must be " + jsonKind(typeErr.Type)})
	}
	return sdkauth.Invalid(sdkauth.FieldError{Name: "body", Reason: "must be a JSON object"})
}

func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Slice:
		return "an array"
	}
	return "of type " + t.String()
}

// validate runs the struct's `binding` rules.
func validate(v any) error {
	err := binding.Validator.ValidateStruct(v)
	if err == nil {
		return nil
	}
	var verrs validator.ValidationErrors
	if !errors.As(err, &verrs) {
		return sdkauth.Invalid(sdkauth.FieldError{Name: "body", Reason: err.Error()})
	}
	fields := make([]sdkauth.FieldError, 0, len(verrs))
	for _, fe := range verrs {
		fields = append(fields, sdkauth.FieldError{Name: fe.Field(), Reason: reason(fe)})
	}
	return sdkauth.Invalid(fields...)
}

func reason(fe validator.FieldError) string {
	switch fe.Tag() {
	case "required":
		return "is required"
	case "max":
		return "must be at most " + fe.Param() + " characters"
	case "min":
		return "must be at least " + fe.Param() + " characters"
	case "url", "http_url":
		return "must be an absolute http or https URL"
	case "oneof":
		return "must be one of: " + fe.Param()
	}
	return "is not valid (" + fe.Tag() + ")"
}
