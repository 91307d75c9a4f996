// chart-render renders a Helm chart the way `helm template` does, for tests on machines without
// helm: Go text/template with sprig and Helm's own functions (include, tpl, toYaml, fromYaml,
// required, lookup), .Values merged from the chart's values.yaml and -f files, .Release, .Chart,
// .Capabilities and .Files. It keeps to what real Helm does identically.
//
// Usage: chart-render [-f values.yaml]... [--namespace ns] [--name release] [--api-versions group/version[/Kind]]... [--notes] CHART_DIR
package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
	"sigs.k8s.io/yaml"
)

type apiVersions []string

// Has mirrors .Capabilities.APIVersions.Has.
func (a apiVersions) Has(v string) bool {
	for _, x := range a {
		if x == v {
			return true
		}
	}
	return false
}

type files map[string][]byte

// Get mirrors .Files.Get.
func (f files) Get(name string) string { return string(f[name]) }

func merge(dst, src map[string]interface{}) map[string]interface{} {
	for k, v := range src {
		if sv, ok := v.(map[string]interface{}); ok {
			if dv, ok := dst[k].(map[string]interface{}); ok {
				dst[k] = merge(dv, sv)
				continue
			}
		}
		dst[k] = v
	}
	return dst
}

func readYAML(path string) (map[string]interface{}, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]interface{}{}
	if err := yaml.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

func toYAML(v interface{}) string {
	b, err := yaml.Marshal(v)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(b), "\n")
}

func fromYAML(s string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := yaml.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

func main() {
	var valueFiles []string
	var extraAPIs apiVersions
	name, namespace, chartDir, notes := "portico", "ingress-system", "", false
	args := os.Args[1:]
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "-f", "--values":
			i++
			valueFiles = append(valueFiles, args[i])
		case "--namespace", "-n":
			i++
			namespace = args[i]
		case "--name":
			i++
			name = args[i]
		case "--api-versions", "-a":
			// as helm template: API versions (and group/version/Kind) the cluster is said to serve
			i++
			extraAPIs = append(extraAPIs, args[i])
		case "--notes":
			notes = true
		default:
			chartDir = args[i]
		}
	}
	if chartDir == "" {
		fmt.Fprintln(os.Stderr, "usage: chart-render [-f values.yaml]... [--namespace ns] [--name release] [--api-versions v]... [--notes] CHART_DIR")
		os.Exit(2)
	}
	if err := run(chartDir, name, namespace, valueFiles, extraAPIs, notes); err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}

func run(chartDir, name, namespace string, valueFiles []string, extraAPIs apiVersions, notes bool) error {
	chart, err := readYAML(filepath.Join(chartDir, "Chart.yaml"))
	if err != nil {
		return err
	}
	values, err := readYAML(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		return err
	}
	for _, f := range valueFiles {
		v, err := readYAML(f)
		if err != nil {
			return err
		}
		values = merge(values, v)
	}
	fs := files{}
	var tplFiles []string
	err = filepath.Walk(chartDir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(chartDir, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fs[rel] = b
		if strings.HasPrefix(rel, "templates/") {
			tplFiles = append(tplFiles, rel)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(tplFiles)

	chartMeta := map[string]interface{}{}
	for k, v := range chart {
		chartMeta[strings.ToUpper(k[:1])+k[1:]] = v
	}
	top := map[string]interface{}{
		"Values":  values,
		"Release": map[string]interface{}{"Name": name, "Namespace": namespace, "Service": "Helm", "IsInstall": true, "IsUpgrade": false, "Revision": 1},
		"Chart":   chartMeta,
		"Capabilities": map[string]interface{}{
			"KubeVersion": map[string]interface{}{"Version": "v1.30.0", "Major": "1", "Minor": "30", "GitVersion": "v1.30.0"},
			"APIVersions": append(apiVersions{"v1", "apps/v1", "networking.k8s.io/v1", "policy/v1", "autoscaling/v2", "rbac.authorization.k8s.io/v1", "monitoring.coreos.com/v1"}, extraAPIs...),
		},
		"Files": fs,
	}

	root := template.New("chart")
	funcs := sprig.TxtFuncMap()
	delete(funcs, "env")
	delete(funcs, "expandenv")
	includeDepth := 0
	funcs["include"] = func(n string, data interface{}) (string, error) {
		includeDepth++
		defer func() { includeDepth-- }()
		if includeDepth > 100 {
			return "", errors.New("include: recursion too deep")
		}
		var buf bytes.Buffer
		err := root.ExecuteTemplate(&buf, n, data)
		return buf.String(), err
	}
	funcs["tpl"] = func(text string, data interface{}) (string, error) {
		t, err := root.Clone()
		if err != nil {
			return "", err
		}
		t, err = t.New("tpl").Parse(text)
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		err = t.Execute(&buf, data)
		return strings.ReplaceAll(buf.String(), "<no value>", ""), err
	}
	funcs["toYaml"] = toYAML
	funcs["fromYaml"] = fromYAML
	funcs["required"] = func(msg string, v interface{}) (interface{}, error) {
		if v == nil {
			return nil, errors.New(msg)
		}
		if s, ok := v.(string); ok && s == "" {
			return nil, errors.New(msg)
		}
		return v, nil
	}
	funcs["lookup"] = func(...interface{}) map[string]interface{} { return map[string]interface{}{} }
	root.Funcs(funcs).Option("missingkey=zero")
	for _, f := range tplFiles {
		if _, err := root.New(f).Parse(string(fs[f])); err != nil {
			return err
		}
	}
	var out strings.Builder
	for _, f := range tplFiles {
		base := filepath.Base(f)
		isNotes := base == "NOTES.txt"
		if strings.HasPrefix(base, "_") || isNotes != notes || !(strings.HasSuffix(f, ".yaml") || strings.HasSuffix(f, ".yml") || isNotes) {
			continue
		}
		data := merge(map[string]interface{}{}, top)
		data["Template"] = map[string]interface{}{"Name": "portico/" + f, "BasePath": "portico/templates"}
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, f, data); err != nil {
			return err
		}
		s := strings.ReplaceAll(buf.String(), "<no value>", "")
		if strings.TrimSpace(s) == "" {
			continue
		}
		if notes {
			out.WriteString(s)
			continue
		}
		fmt.Fprintf(&out, "---\n# Source: portico/%s\n%s\n", f, strings.TrimSpace(s))
	}
	fmt.Print(out.String())
	return nil
}
