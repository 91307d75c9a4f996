{{/* Chart name, truncated to 63 characters. */}}
{{- define "portico.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Full name: release-chart unless the release already contains the chart name. */}}
{{- define "portico.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "portico.controller.fullname" -}}
{{- printf "%s-%s" (include "portico.fullname" .) .Values.controller.name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "portico.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "portico.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: portico
{{- end -}}

{{- define "portico.selectorLabels" -}}
app.kubernetes.io/name: {{ include "portico.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: controller
{{- end -}}

{{- define "portico.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "portico.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "portico.image" -}}
{{- $c := .Values.controller.image -}}
{{- if $c.digest -}}
{{- printf "%s@%s" $c.repository $c.digest -}}
{{- else -}}
{{- printf "%s:%s" $c.repository (default .Chart.AppVersion $c.tag) -}}
{{- end -}}
{{- end -}}

{{- define "portico.electionID" -}}
{{- default (printf "%s-leader" (include "portico.fullname" .)) .Values.controller.electionID -}}
{{- end -}}

{{- define "portico.watchNamespace" -}}
{{- default .Release.Namespace .Values.controller.scope.namespace -}}
{{- end -}}

{{/* Ports Portico listens on: the node's with hostNetwork, else the container ports. */}}
{{- define "portico.httpPort" -}}
{{- if .Values.controller.hostNetwork }}{{ .Values.controller.hostNetworkPorts.http }}{{ else }}{{ .Values.controller.containerPort.http }}{{ end -}}
{{- end -}}
{{- define "portico.httpsPort" -}}
{{- if .Values.controller.hostNetwork }}{{ .Values.controller.hostNetworkPorts.https }}{{ else }}{{ .Values.controller.containerPort.https }}{{ end -}}
{{- end -}}

{{/* True when a listening port is privileged (< 1024) and so needs NET_BIND_SERVICE: the host
     network's HTTP or HTTPS port, or a TCP or UDP services port (Portico listens on it itself). */}}
{{- define "portico.needsBind" -}}
{{- $low := false -}}
{{- range $port, $_ := merge (dict) .Values.tcp .Values.udp -}}
{{- if lt (int $port) 1024 }}{{ $low = true }}{{ end -}}
{{- end -}}
{{- if or $low (and .Values.controller.hostNetwork (or (lt (int .Values.controller.hostNetworkPorts.http) 1024) (lt (int .Values.controller.hostNetworkPorts.https) 1024))) -}}true{{- end -}}
{{- end -}}

{{/* The TCP and UDP services ConfigMaps (values `tcp:` and `udp:`), in the release namespace. */}}
{{- define "portico.tcpConfigMap" -}}
{{- printf "%s-tcp" (include "portico.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- define "portico.udpConfigMap" -}}
{{- printf "%s-udp" (include "portico.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}


{{/* True when controller.admin.bindAddress is a loopback address: the admin port stays inside the pod. */}}
{{- define "portico.adminLoopback" -}}
{{- $a := .Values.controller.admin.bindAddress | default "" -}}
{{- if or (hasPrefix "127." $a) (eq $a "::1") -}}true{{- end -}}
{{- end -}}

{{/* True when kubectl port-forward (which connects to the pod's loopback) reaches the admin port. */}}
{{- define "portico.adminForwardable" -}}
{{- $a := .Values.controller.admin.bindAddress | default "" -}}
{{- if or (eq $a "") (eq $a "0.0.0.0") (eq $a "::") (include "portico.adminLoopback" .) -}}true{{- end -}}
{{- end -}}

{{/* A probe as given; with the admin port on loopback, its httpGet becomes an exec of the image's
     node fetching the same path over loopback (the kubelet's HTTP probes come from outside). */}}
{{- define "portico.probe" -}}
{{- $c := .root.Values.controller -}}
{{- if and (include "portico.adminLoopback" .root) .probe.httpGet -}}
{{- $host := $c.admin.bindAddress -}}
{{- if contains ":" $host }}{{ $host = printf "[%s]" $host }}{{ end -}}
{{- $url := printf "http://%s:%v%s" $host $c.metrics.port .probe.httpGet.path -}}
{{- $p := omit .probe "httpGet" -}}
{{- $_ := set $p "exec" (dict "command" (list "/app/node" "-e" (printf "fetch(%s).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))" (toJson $url)))) -}}
{{- $_ = set $p "timeoutSeconds" (max (int (default 1 .probe.timeoutSeconds)) 3) -}}
{{- toYaml $p -}}
{{- else -}}
{{- toYaml .probe -}}
{{- end -}}
{{- end -}}

{{/* controller.debugEndpoints as a string: an unquoted `off` in a values file is YAML 1.1's false. */}}
{{- define "portico.debugEndpoints" -}}
{{- $d := toString .Values.controller.debugEndpoints -}}
{{- if eq $d "false" }}off{{ else }}{{ $d }}{{ end -}}
{{- end -}}
