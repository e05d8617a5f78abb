// Command celwasm is Vigil's CEL evaluator: a WebAssembly reactor (GOOS=wasip1
// GOARCH=wasm, -buildmode=c-shared) around the API server's own
// ValidatingAdmissionPolicy compiler and validator, so a custom rule means in
// `vigil scan` and in the operator exactly what it means to the API server.
//
// Calling convention (operator/src/engine/cel/wasm.ts is the only caller): the host
// asks for a buffer with alloc(n), writes a JSON request into it and calls an
// export with (ptr, len). The export frees the buffer and returns the JSON answer
// packed as ptr<<32|len; the answer stays valid until the next call.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unsafe"

	"github.com/google/cel-go/cel"
	celtypes "github.com/google/cel-go/common/types"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apiserver/pkg/admission"
	plugincel "k8s.io/apiserver/pkg/admission/plugin/cel"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"k8s.io/apiserver/pkg/authentication/user"
	apiservercel "k8s.io/apiserver/pkg/cel"
	"k8s.io/apiserver/pkg/cel/environment"
)

func main() {}

// ---- memory shared with the host ----

var (
	buffers = map[uintptr][]byte{}
	answer  []byte
)

//go:wasmexport alloc
func alloc(size int32) int32 {
	if size <= 0 {
		size = 1
	}
	b := make([]byte, size)
	p := uintptr(unsafe.Pointer(&b[0]))
	buffers[p] = b
	return int32(p)
}

func take(ptr, length int32) []byte {
	b, ok := buffers[uintptr(ptr)]
	if !ok {
		return nil
	}
	delete(buffers, uintptr(ptr))
	return b[:length]
}

func reply(v any) int64 {
	out, err := json.Marshal(v)
	if err != nil {
		out, _ = json.Marshal(map[string]string{"fatal": err.Error()})
	}
	answer = out
	if len(answer) == 0 {
		return 0
	}
	return int64(uintptr(unsafe.Pointer(&answer[0])))<<32 | int64(len(answer))
}

// ---- compile ----

type variableIn struct {
	Name       string `json:"name"`
	Expression string `json:"expression"`
}

type validationIn struct {
	Expression        string `json:"expression"`
	Message           string `json:"message,omitempty"`
	MessageExpression string `json:"messageExpression,omitempty"`
}

type compileIn struct {
	Variables   []variableIn   `json:"variables"`
	Validations []validationIn `json:"validations"`
}

// compileError names the expression (its field in the request) and the
// positions CEL reports (1-based line and column within the expression).
type compileError struct {
	Field      string     `json:"field"`
	Expression string     `json:"expression"`
	Message    string     `json:"message"`
	Positions  []position `json:"positions,omitempty"`
}

type position struct {
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Message string `json:"message"`
}

type compileOut struct {
	Handle int32          `json:"handle"`
	Errors []compileError `json:"errors"`
}

// The expression kinds of a ValidatingAdmissionPolicy: what each must return.
type variableExpr struct{ name, expr string }
type validationExpr struct{ expr, message string }
type messageExpr struct{ expr string }

func (v *variableExpr) GetExpression() string      { return v.expr }
func (v *variableExpr) GetName() string            { return v.name }
func (v *variableExpr) ReturnTypes() []*cel.Type   { return []*cel.Type{cel.AnyType, cel.DynType} }
func (v *validationExpr) GetExpression() string    { return v.expr }
func (v *validationExpr) ReturnTypes() []*cel.Type { return []*cel.Type{cel.BoolType} }
func (m *messageExpr) GetExpression() string       { return m.expr }
func (m *messageExpr) ReturnTypes() []*cel.Type    { return []*cel.Type{cel.StringType} }

// rule is one compiled custom rule: its validations and their messageExpressions.
type rule struct {
	validations []*validationExpr
	conditions  plugincel.ConditionEvaluator
	messages    plugincel.ConditionEvaluator
}

var (
	rules      = map[int32]*rule{}
	nextHandle int32
)

// The environment the ValidatingAdmissionPolicy plugin builds (plugin.go,
// getCompositionEnvTemplateWithStrictCost), at the library version the API server offers.
var baseEnv = environment.MustBaseEnvSet(environment.DefaultCompatibilityVersion())

func errorOf(field, expr string, err *apiservercel.Error) compileError {
	ce := compileError{Field: field, Expression: expr, Message: err.Detail}
	var compErr *apiservercel.CompilationError
	if c, ok := err.Cause.(*apiservercel.CompilationError); ok {
		compErr = c
	}
	if compErr != nil && compErr.Issues != nil {
		for _, e := range compErr.Issues.Errors() {
			loc := e.Location
			ce.Positions = append(ce.Positions, position{Line: loc.Line(), Column: loc.Column() + 1, Message: e.Message})
		}
	}
	return ce
}

var stateless plugincel.Compiler

// statelessChecker is the API server's compiler for a policy without variables, built once
// (it holds no state between expressions).
func statelessChecker() plugincel.Compiler {
	if stateless == nil {
		stateless = plugincel.NewCompiler(baseEnv)
	}
	return stateless
}

//go:wasmexport compile
func compile(ptr, length int32) int64 {
	return reply(compileRequest(take(ptr, length)))
}

func compileRequest(req []byte) compileOut {
	var in compileIn
	if err := json.Unmarshal(req, &in); err != nil {
		return compileOut{Errors: []compileError{{Field: "", Message: "invalid request: " + err.Error()}}}
	}
	comp, err := plugincel.NewCompositedCompiler(baseEnv)
	if err != nil {
		return compileOut{Errors: []compileError{{Message: err.Error()}}}
	}
	// As compilePolicy in k8s.io/apiserver/pkg/admission/plugin/policy/validating/plugin.go:
	// validations see the authorizer, messageExpressions do not; no params.
	optionalVars := plugincel.OptionalVariableDeclarations{HasParams: false, HasAuthorizer: true}
	messageVars := plugincel.OptionalVariableDeclarations{HasParams: false, HasAuthorizer: false}
	var errs []compileError
	// Checked as the API server validates a new ValidatingAdmissionPolicy
	// (k8s.io/kubernetes/pkg/apis/admissionregistration/validation): NewExpressions, and
	// `variables` declared only when the policy has variables. Evaluated as admission does:
	// the composited environment with StoredExpressions.
	var checker = statelessChecker()
	if len(in.Variables) > 0 {
		composited, err := plugincel.NewCompositedCompiler(baseEnv)
		if err != nil {
			return compileOut{Errors: []compileError{{Message: err.Error()}}}
		}
		checker = composited
		for i, v := range in.Variables {
			if chk := composited.CompileAndStoreVariable(&variableExpr{name: v.Name, expr: v.Expression}, optionalVars, environment.NewExpressions); chk.Error != nil {
				errs = append(errs, errorOf(fmt.Sprintf("variables[%d].expression", i), v.Expression, chk.Error))
			}
		}
	}
	for _, v := range in.Variables {
		comp.CompileAndStoreVariable(&variableExpr{name: v.Name, expr: v.Expression}, optionalVars, environment.StoredExpressions)
	}
	r := &rule{}
	validations := make([]plugincel.ExpressionAccessor, len(in.Validations))
	messages := make([]plugincel.ExpressionAccessor, len(in.Validations))
	for i, v := range in.Validations {
		r.validations = append(r.validations, &validationExpr{expr: v.Expression, message: v.Message})
		validations[i] = r.validations[i]
		if chk := checker.CompileCELExpression(validations[i], optionalVars, environment.NewExpressions); chk.Error != nil {
			errs = append(errs, errorOf(fmt.Sprintf("validations[%d].expression", i), v.Expression, chk.Error))
		}
		if v.MessageExpression != "" {
			messages[i] = &messageExpr{expr: v.MessageExpression}
			if chk := checker.CompileCELExpression(messages[i], messageVars, environment.NewExpressions); chk.Error != nil {
				errs = append(errs, errorOf(fmt.Sprintf("validations[%d].messageExpression", i), v.MessageExpression, chk.Error))
			}
		}
	}
	if len(errs) > 0 {
		return compileOut{Errors: errs}
	}
	r.conditions = comp.CompileCondition(validations, optionalVars, environment.StoredExpressions)
	r.messages = comp.CompileCondition(messages, messageVars, environment.StoredExpressions)
	nextHandle++
	rules[nextHandle] = r
	return compileOut{Handle: nextHandle, Errors: []compileError{}}
}

//go:wasmexport release
func release(handle int32) {
	delete(rules, handle)
}

// ---- evaluate ----

type evaluateIn struct {
	Handle    int32          `json:"handle"`
	Object    map[string]any `json:"object"`
	OldObject map[string]any `json:"oldObject,omitempty"`
	// Namespace is the object's Namespace, when known (namespaceObject).
	Namespace map[string]any `json:"namespace,omitempty"`
	Operation string         `json:"operation,omitempty"`
	Resource  string         `json:"resource,omitempty"`
	Username  string         `json:"username,omitempty"`
	// Budget is the runtime cost budget; 0 is the API server's (RuntimeCELCostBudget).
	Budget int64 `json:"budget,omitempty"`
	// ObjectID, when not 0, names the object (and namespace) for later requests: a request
	// with the same ObjectID and no object judges the last object sent again, as the API
	// server judges one request's object by every policy, without decoding it again.
	ObjectID int64 `json:"objectId,omitempty"`
}

// subject is an object ready for evaluation; current is the last one sent with an ObjectID.
type subject struct {
	id        int64
	versioned *admission.VersionedAttributes
	request   *admissionv1.AdmissionRequest
	ns        *corev1.Namespace
}

var current subject

type decision struct {
	// "admit", "deny" or "error", as the API server's PolicyDecision.Evaluation.
	Evaluation string `json:"evaluation"`
	Message    string `json:"message,omitempty"`
	Reason     string `json:"reason,omitempty"`
}

type evaluateOut struct {
	Decisions []decision `json:"decisions"`
	Error     string     `json:"error,omitempty"`
}

// resourceOf guesses the plural resource name from a kind, as kubectl's fallback does.
func resourceOf(kind string) string {
	k := strings.ToLower(kind)
	switch {
	case k == "":
		return ""
	case strings.HasSuffix(k, "s"), strings.HasSuffix(k, "x"), strings.HasSuffix(k, "ch"), strings.HasSuffix(k, "sh"):
		return k + "es"
	case strings.HasSuffix(k, "y") && !strings.ContainsAny(k[len(k)-2:len(k)-1], "aeiou"):
		return k[:len(k)-1] + "ies"
	}
	return k + "s"
}

//go:wasmexport evaluate
func evaluate(ptr, length int32) int64 {
	return reply(evaluateRequest(take(ptr, length)))
}

func evaluateRequest(req []byte) evaluateOut {
	var in evaluateIn
	// Integers stay int64, as in the API server's unstructured objects (encoding/json would make them float64).
	if err := utiljson.Unmarshal(req, &in); err != nil {
		return evaluateOut{Error: "invalid request: " + err.Error()}
	}
	r, ok := rules[in.Handle]
	if !ok {
		return evaluateOut{Error: fmt.Sprintf("no compiled rule with handle %d", in.Handle)}
	}
	var sub subject
	if in.Object == nil && in.ObjectID != 0 && current.id == in.ObjectID {
		sub = current
	} else if in.Object == nil {
		return evaluateOut{Error: fmt.Sprintf("object %d is no longer held: send it again", in.ObjectID)}
	} else {
		var err error
		if sub, err = newSubject(&in); err != nil {
			return evaluateOut{Error: err.Error()}
		}
		current = sub
	}
	budget := in.Budget
	if budget <= 0 {
		budget = celconfig.RuntimeCELCostBudget
	}
	return evaluateOut{Decisions: r.decide(sub.versioned, sub.request, sub.ns, budget)}
}

// newSubject is the request's object as admission sees it: attributes, AdmissionRequest, Namespace.
func newSubject(in *evaluateIn) (subject, error) {
	obj := &unstructured.Unstructured{Object: in.Object}
	gvk := obj.GroupVersionKind()
	resource := in.Resource
	if resource == "" {
		resource = resourceOf(gvk.Kind)
	}
	gvr := gvk.GroupVersion().WithResource(resource)
	var old *unstructured.Unstructured
	op := admission.Create
	if in.OldObject != nil {
		old = &unstructured.Unstructured{Object: in.OldObject}
		op = admission.Update
	}
	if in.Operation != "" {
		op = admission.Operation(in.Operation)
	}
	var options runtime.Object
	switch op {
	case admission.Create:
		options = &metav1.CreateOptions{TypeMeta: metav1.TypeMeta{Kind: "CreateOptions", APIVersion: "meta.k8s.io/v1"}}
	case admission.Update:
		options = &metav1.UpdateOptions{TypeMeta: metav1.TypeMeta{Kind: "UpdateOptions", APIVersion: "meta.k8s.io/v1"}}
	}
	var oldObj runtime.Object
	if old != nil {
		oldObj = old
	}
	attrs := admission.NewAttributesRecord(obj, oldObj, gvk, obj.GetNamespace(), obj.GetName(), gvr, "", op, options, false, &user.DefaultInfo{Name: in.Username})
	versioned := &admission.VersionedAttributes{Attributes: attrs, VersionedKind: gvk, VersionedObject: admission.NewLazyObject(obj)}
	if old != nil {
		versioned.VersionedOldObject = admission.NewLazyObject(old)
	}
	var ns *corev1.Namespace
	if in.Namespace != nil {
		ns = &corev1.Namespace{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(in.Namespace, ns); err != nil {
			return subject{}, fmt.Errorf("namespace: %w", err)
		}
	}
	request := plugincel.CreateAdmissionRequest(attrs, metav1.GroupVersionResource(gvr), metav1.GroupVersionKind(gvk))
	return subject{id: in.ObjectID, versioned: versioned, request: request, ns: plugincel.CreateNamespaceObject(ns)}, nil
}

// decide gives one decision per validation, with the ValidatingAdmissionPolicy
// semantics: an evaluation error is an error; a false result is a denial whose
// message is the messageExpression's (a single line of at most
// MaxEvaluatedMessageExpressionSizeBytes, trimmed), else the static message, else
// "failed expression: <expression>"; the messageExpressions get the budget the
// validations left.
func (r *rule) decide(attrs *admission.VersionedAttributes, request *admissionv1.AdmissionRequest, ns *corev1.Namespace, budget int64) []decision {
	ctx := context.Background()
	results, left, err := r.conditions.ForInput(ctx, attrs, request, plugincel.OptionalVariableBindings{}, ns, budget)
	if err != nil {
		return []decision{{Evaluation: "error", Message: err.Error()}}
	}
	msgs, _, msgErr := r.messages.ForInput(ctx, attrs, request, plugincel.OptionalVariableBindings{}, ns, left)
	out := make([]decision, len(results))
	for i, res := range results {
		switch {
		case res.Error != nil:
			out[i] = decision{Evaluation: "error", Message: res.Error.Error()}
		case errors.Is(msgErr, apiservercel.ErrInternal) || errors.Is(msgErr, apiservercel.ErrOutOfBudget):
			out[i] = decision{Evaluation: "error", Message: fmt.Sprintf("failed messageExpression: %s", msgErr)}
		case res.EvalResult == celtypes.True:
			out[i] = decision{Evaluation: "admit"}
		default:
			out[i] = decision{Evaluation: "deny", Reason: string(metav1.StatusReasonInvalid), Message: r.message(i, msgs)}
		}
	}
	return out
}

func (r *rule) message(i int, msgs []plugincel.EvaluationResult) string {
	if i < len(msgs) && msgs[i].Error == nil && msgs[i].EvalResult != nil {
		if s, ok := msgs[i].EvalResult.Value().(string); ok {
			s = strings.TrimSpace(s)
			if s != "" && len(s) <= celconfig.MaxEvaluatedMessageExpressionSizeBytes && !strings.Contains(s, "\n") {
				return s
			}
		}
	}
	if m := strings.TrimSpace(r.validations[i].message); m != "" {
		return m
	}
	return fmt.Sprintf("failed expression: %v", strings.TrimSpace(r.validations[i].expr))
}

// ---- information ----

//go:wasmexport info
func info() int64 {
	return reply(map[string]any{
		"environmentVersion": environment.DefaultCompatibilityVersion().String(),
		"runtimeCostBudget":  celconfig.RuntimeCELCostBudget,
		"perCallLimit":       celconfig.PerCallLimit,
	})
}
