// ESO's template engine v2 as a reference for Ferry's: renders each case it reads with
// pkg/template/v2's Execute, exactly as ESO's controller renders spec.target.template.data
// (scope Values, target Data), so Ferry's engine can be compared with it byte for byte.
//
// Input: JSON lines on stdin, {"key": "k", "template": "...", "data": {"name": "<base64>"}}.
// Output: one JSON line per case on stdout, in order: {"output": "<base64>"} or {"error": "..."}.
// One process renders any number of cases; a case still running after -timeout ends the process
// with {"error": "timeout"} so the caller can start a new one for the rest.
//
// With -signatures it prints instead the Go type of every function of the engine's FuncMap, as
// one JSON object (name → reflect type), which Ferry's signature table is checked against.
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"reflect"
	"time"

	esv1 "github.com/external-secrets/external-secrets/apis/externalsecrets/v1"
	template "github.com/external-secrets/external-secrets/pkg/template/v2"
	corev1 "k8s.io/api/core/v1"
)

type request struct {
	Key      string            `json:"key"`
	Template string            `json:"template"`
	Data     map[string][]byte `json:"data"`
}

type response struct {
	Output *string `json:"output,omitempty"`
	Error  *string `json:"error,omitempty"`
}

func render(req request) (res response) {
	defer func() {
		// text/template turns a function's panic into an error; anything else reaching here is one too.
		if r := recover(); r != nil {
			msg := fmt.Sprintf("panic: %v", r)
			res = response{Error: &msg}
		}
	}()
	key := req.Key
	if key == "" {
		key = "k"
	}
	secret := &corev1.Secret{}
	tpl := map[string][]byte{key: []byte(req.Template)}
	if err := template.Execute(tpl, req.Data, esv1.TemplateScopeValues, esv1.TemplateTargetData, secret); err != nil {
		msg := err.Error()
		return response{Error: &msg}
	}
	out := base64.StdEncoding.EncodeToString(secret.Data[key])
	return response{Output: &out}
}

func main() {
	timeout := flag.Duration("timeout", 20*time.Second, "longest one case may take before the process gives up")
	signatures := flag.Bool("signatures", false, "print the Go type of every function of the FuncMap and exit")
	flag.Parse()
	if *signatures {
		types := map[string]string{}
		for name, fn := range template.FuncMap() {
			types[name] = reflect.TypeOf(fn).String()
		}
		if err := json.NewEncoder(os.Stdout).Encode(types); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 0, 1<<20), 64<<20)
	out := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for in.Scan() {
		var req request
		var res response
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			msg := "bad request: " + err.Error()
			res = response{Error: &msg}
		} else {
			done := make(chan response, 1)
			go func() { done <- render(req) }()
			select {
			case res = <-done:
			case <-time.After(*timeout):
				msg := "timeout"
				_ = enc.Encode(response{Error: &msg})
				_ = out.Flush()
				os.Exit(3)
			}
		}
		if err := enc.Encode(res); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if err := out.Flush(); err != nil {
			os.Exit(1)
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
