{{/* The chart name, or nameOverride. Used as app.kubernetes.io/name. */}}
{{- define "vigil.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The name of the operator's objects: fullnameOverride, else the release name when it contains the
chart name (release "vigil" -> "vigil", as in install.yaml), else "<release>-<chart>".
*/}}
{{- define "vigil.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "vigil.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels on every object: install.yaml's app.kubernetes.io/part-of, and Helm's bookkeeping labels
(scripts/chart-drift.ts ignores exactly these four when it compares the chart with install.yaml).
*/}}
{{- define "vigil.labels" -}}
app.kubernetes.io/part-of: vigil
helm.sh/chart: {{ include "vigil.chart" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Selects the operator's pods. Kept as in install.yaml (no instance label), so a Deployment applied
from install.yaml can be taken over by the chart (selectors are immutable). Vigil is one per
cluster: its CRDs and ClusterRoles are cluster-wide.
*/}}
{{- define "vigil.selectorLabels" -}}
app.kubernetes.io/name: {{ include "vigil.name" . }}
app.kubernetes.io/component: operator
{{- end }}

{{/* The operator's image: repository[:tag][@digest]. */}}
{{- define "vigil.image" -}}
{{- $img := .Values.image }}
{{- $ref := $img.repository }}
{{- if $img.tag }}{{ $ref = printf "%s:%s" $ref $img.tag }}{{ end }}
{{- if $img.digest }}{{ $ref = printf "%s@%s" $ref $img.digest }}{{ end }}
{{- $ref }}
{{- end }}

{{/* The leader-election Lease: --lease-name and the Role that may update it. */}}
{{- define "vigil.leaseName" -}}{{ .Values.leaderElection.leaseName }}{{- end }}
