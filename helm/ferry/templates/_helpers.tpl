{{/* Names and labels shared by every object of the chart. */}}
{{- define "ferry.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "ferry.labels" -}}
app.kubernetes.io/name: ferry
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "ferry.selector" -}}
app.kubernetes.io/name: ferry
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "ferry.serviceAccountName" -}}
{{- default (include "ferry.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{- define "ferry.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "ferry.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/*
CEL for rule namespaced-store-egress (admission-policy-endpoints.yaml), given a host expression.
"ferry.egress.allowed": the host is in the allow-list by name, *.suffix, address or CIDR.
*/}}
{{- define "ferry.egress.allowed" -}}
variables.allowed.exists(e, e == {{ . }} || (e.startsWith('*.') && {{ . }}.endsWith(e.substring(1))) || (isCIDR(e) && isIP({{ . }}) && cidr(e).containsIP({{ . }})) || (isIP(e) && isIP({{ . }}) && ip(e) == ip({{ . }})))
{{- end }}

{{/*
"ferry.egress.blocked": the host is spelled as a loopback, link-local, unspecified, private or
cluster-internal address, as localhost, as an IPv6 form that embeds an IPv4 address (whatever it
embeds; CEL's ip() refuses IPv4-mapped ones), or as a
non-canonical number (0x7f000001, 127.1) that resolvers read as an address.
*/}}
{{- define "ferry.egress.blocked" -}}
({{ . }} == 'localhost' || {{ . }}.endsWith('.localhost') || (isIP({{ . }}) && (!ip({{ . }}).isGlobalUnicast() || ['0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.0.0.0/24', '192.168.0.0/16', '240.0.0.0/4', '::/96', '64:ff9b::/96', 'fc00::/7', 'fe80::/10'].exists(c, cidr(c).containsIP({{ . }})))) || (!isIP({{ . }}) && ({{ . }}.contains(':') || {{ . }}.matches('^(0x[0-9a-f]*|[0-9]+)(\\.(0x[0-9a-f]*|[0-9]+)){0,3}$'))))
{{- end }}

{{- define "ferry.egress.reachable" -}}
{{ . }} == '' || !{{ include "ferry.egress.blocked" . }} || {{ include "ferry.egress.allowed" . }}
{{- end }}

{{- define "ferry.egress.refusal" -}}
'{{ index . 0 }}: a SecretStore may not make Ferry connect to ' + {{ index . 1 }} + ', a loopback, link-local, private or cluster-internal address (namespaced-store-egress); use a ClusterSecretStore or ask the admin to allow-list it (egress.namespacedStoreAllowedHosts)'
{{- end }}

{{- define "ferry.egress.override" -}}
'{{ index . 0 }}: a SecretStore may set this only to a host the admin allow-listed (namespaced-store-egress: egress.namespacedStoreAllowedHosts); \"' + {{ index . 1 }} + '\" is not listed. Use a ClusterSecretStore or ask the admin to list the host'
{{- end }}
