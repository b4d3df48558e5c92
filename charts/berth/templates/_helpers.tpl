{{/* Names and labels of the berth chart. */}}

{{/* The chart name (or nameOverride), at most 63 characters. */}}
{{- define "berth.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The full resource name: fullnameOverride, else <release>-<name> (or the release name when
     it already contains the chart name), at most 63 characters. */}}
{{- define "berth.fullname" -}}
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

{{/* chart label: name-version. */}}
{{- define "berth.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels that select the DaemonSet's pods; never change them in an upgrade. */}}
{{- define "berth.selectorLabels" -}}
app.kubernetes.io/name: {{ include "berth.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels of every resource. */}}
{{- define "berth.labels" -}}
helm.sh/chart: {{ include "berth.chart" . }}
{{ include "berth.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: container-runtime
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* The berthd image reference. */}}
{{- define "berth.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* The CRI endpoint the probes ask: unix://<config.listen>. */}}
{{- define "berth.endpoint" -}}
{{- printf "unix://%s" .Values.config.listen -}}
{{- end -}}

{{/* The socket's directory when it is not under config.state (else empty): it needs its own
     host mount. */}}
{{- define "berth.listenDir" -}}
{{- $dir := dir .Values.config.listen -}}
{{- $state := trimSuffix "/" .Values.config.state -}}
{{- if not (or (eq $dir $state) (hasPrefix (printf "%s/" $state) $dir)) -}}
{{- $dir -}}
{{- end -}}
{{- end -}}
