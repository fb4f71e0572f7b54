{{/* Chart name, truncated to the 63 characters Kubernetes allows in a name. */}}
{{- define "brightspots.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: the release name, with the chart name unless the release name already has it. */}}
{{- define "brightspots.fullname" -}}
{{- if contains .Chart.Name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "brightspots.selectorLabels" -}}
app.kubernetes.io/name: {{ include "brightspots.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "brightspots.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "brightspots.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "brightspots.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "brightspots.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "brightspots.storageKind" -}}
{{- dig "storage" "kind" "fs" .Values.config }}
{{- end }}

{{- define "brightspots.searchKind" -}}
{{- dig "search" "kind" "bleve" .Values.config }}
{{- end }}

{{/* "true" when every replica can share the node's state: an S3 store and Meilisearch. */}}
{{- define "brightspots.shared" -}}
{{- if and (eq (include "brightspots.storageKind" .) "s3") (eq (include "brightspots.searchKind" .) "meilisearch") }}true{{ end }}
{{- end }}

{{/* The configuration file: the user's config with the listen address and data folder the pod uses. */}}
{{- define "brightspots.config" -}}
{{- $cfg := deepCopy .Values.config }}
{{- $_ := set $cfg "listen" "0.0.0.0:8080" }}
{{- $_ := set $cfg "data_dir" "/var/lib/brightspots" }}
{{- toYaml $cfg }}
{{- end }}

{{- define "brightspots.validate" -}}
{{- if and (gt (int .Values.replicaCount) 1) (not (include "brightspots.shared" .)) }}
{{- fail "replicaCount > 1 needs config.storage.kind: s3 and config.search.kind: meilisearch (the embedded store and index belong to one process)" }}
{{- end }}
{{- if not (dig "node" "url" "" .Values.config) }}
{{- fail "config.node.url is required: the node's public https URL, which is also its identity" }}
{{- end }}
{{- end }}
