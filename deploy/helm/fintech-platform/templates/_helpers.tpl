{{/*
Helpers shared by every template. Per-service templates range over .Values.services and pass the helpers a
context dict: (dict "root" $ "name" <service name> "svc" <its values>).
*/}}

{{- define "fintech.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's prefix of every resource name. */}}
{{- define "fintech.fullname" -}}
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

{{/* One service's resource name (Deployment, Service, ConfigMap, ...): <fullname>-<service>. */}}
{{- define "fintech.componentName" -}}
{{- printf "%s-%s" (include "fintech.fullname" .root) .name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
One gRPC service's headless Service (service context): <fullname>-<service>-replicas, the name every caller's
<SERVICE>_URL gives and that resolves to each ready pod's address.
*/}}
{{- define "fintech.replicasName" -}}
{{- printf "%s-replicas" (include "fintech.componentName" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "fintech.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{/* The Secret holding URLs and credentials: the chart's own, or secrets.existingSecret. */}}
{{- define "fintech.secretName" -}}
{{- .Values.secrets.existingSecret | default (include "fintech.fullname" .) }}
{{- end }}

{{/* Labels of release-wide resources (root context). */}}
{{- define "fintech.commonLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "fintech.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: fintech-platform
{{- end }}

{{/* Selector labels of one service's pods (service context). */}}
{{- define "fintech.selectorLabels" -}}
app.kubernetes.io/name: {{ include "fintech.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end }}

{{/* Labels of one service's resources (service context). */}}
{{- define "fintech.labels" -}}
{{ include "fintech.commonLabels" .root }}
app.kubernetes.io/component: {{ .name }}
{{- end }}

{{/*
The ConfigMap data of one service (service context): every variable the chart sets that is not a secret.
deploy/test keeps a copy of this list in step with the services' config schemas.
*/}}
{{- define "fintech.config" -}}
{{- $root := .root -}}
HOST: "0.0.0.0"
PORT: {{ .svc.port | quote }}
METRICS_PORT: {{ .svc.metricsPort | quote }}
LOG_LEVEL: {{ $root.Values.logLevel | quote }}
JWT_ISSUER: {{ $root.Values.auth.jwtIssuer | quote }}
JWT_AUDIENCE: {{ $root.Values.auth.jwtAudience | quote }}
{{- if ne .name "identity" }}
SERVICE_CLIENT_ID: {{ .name | quote }}
{{- end }}
{{- if eq .svc.kind "grpc" }}
GRPC_REFLECTION: {{ $root.Values.grpcReflection | quote }}
{{- end }}
{{- if .svc.schema }}
DB_SCHEMA: {{ .svc.schema | quote }}
{{- end }}
{{- if .svc.nats }}
NATS_STREAM_REPLICAS: {{ $root.Values.externals.natsStreamReplicas | quote }}
EVENTS_NAMESPACE: {{ $root.Values.events.namespace | quote }}
{{- end }}
{{- range $callee := .svc.calls }}
{{- $target := index $root.Values.services $callee | default dict }}
{{- $port := required (printf "services.%s is called but not defined" $callee) $target.port }}
{{ upper $callee }}_URL: {{ printf "http://%s:%v" (include "fintech.replicasName" (dict "root" $root "name" $callee)) $port | quote }}
{{- end }}
{{- range $key, $value := .svc.env }}
{{ $key }}: {{ $value | quote }}
{{- end }}
{{- end }}

{{/* The env entries of one service read from the Secret (service context). */}}
{{- define "fintech.secretEnv" -}}
{{- $secret := include "fintech.secretName" .root -}}
{{- if .svc.schema }}
- name: DATABASE_URL
  valueFrom: { secretKeyRef: { name: {{ $secret }}, key: DATABASE_URL } }
{{- end }}
{{- if .svc.nats }}
- name: NATS_URL
  valueFrom: { secretKeyRef: { name: {{ $secret }}, key: NATS_URL } }
{{- end }}
{{- if .svc.redisKey }}
- name: REDIS_URL
  valueFrom: { secretKeyRef: { name: {{ $secret }}, key: {{ .svc.redisKey }} } }
{{- end }}
{{- if eq .name "identity" }}
- name: SERVICE_CREDENTIALS
  valueFrom: { secretKeyRef: { name: {{ $secret }}, key: SERVICE_CREDENTIALS } }
- name: ADMIN_EMAIL
  valueFrom: { secretKeyRef: { name: {{ $secret }}, key: ADMIN_EMAIL, optional: true } }
- name: ADMIN_PASSWORD
  valueFrom: { secretKeyRef: { name: {{ $secret }}, key: ADMIN_PASSWORD, optional: true } }
{{- else }}
- name: SERVICE_CLIENT_SECRET
  valueFrom: { secretKeyRef: { name: {{ $secret }}, key: {{ printf "SERVICE_CLIENT_SECRET_%s" (upper .name) }} } }
{{- end }}
{{- if eq .name "notifications" }}
- name: WEBHOOK_SECRET_KEY
  valueFrom: { secretKeyRef: { name: {{ $secret }}, key: WEBHOOK_SECRET_KEY } }
- name: AUDIT_SIGNING_KEY
  valueFrom: { secretKeyRef: { name: {{ $secret }}, key: AUDIT_SIGNING_KEY } }
- name: SMTP_URL
  valueFrom: { secretKeyRef: { name: {{ $secret }}, key: SMTP_URL } }
{{- end }}
{{- end }}
