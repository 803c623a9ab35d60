{{/* Release-scoped base name. */}}
{{- define "cdp.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "cdp.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: cdp
{{- end -}}

{{/* Selector labels of one service; call with (dict "root" $ "name" $name). */}}
{{- define "cdp.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{- define "cdp.serviceName" -}}
{{- printf "%s-%s" (include "cdp.fullname" .root) .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The merged settings of one service (serviceDefaults under services.<name>), as YAML. */}}
{{- define "cdp.serviceValues" -}}
{{- $svc := index .root.Values.services .name -}}
{{- toYaml (mergeOverwrite (deepCopy .root.Values.serviceDefaults) (deepCopy $svc)) -}}
{{- end -}}

{{- define "cdp.image" -}}
{{- $img := .root.Values.image -}}
{{- $repo := printf "%s%s" $img.repositoryPrefix .name -}}
{{- if $img.registry }}{{ $repo = printf "%s/%s" (trimSuffix "/" $img.registry) $repo }}{{ end -}}
{{- printf "%s:%s" $repo (default .root.Chart.AppVersion $img.tag) -}}
{{- end -}}

{{- define "cdp.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "cdp.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "cdp.secretName" -}}
{{- default (printf "%s-credentials" (include "cdp.fullname" .)) .Values.existingSecret -}}
{{- end -}}

{{- define "cdp.topicName" -}}
{{- printf "%s%s" .root.Values.config.topicNamespace .topic -}}
{{- end -}}

{{/* Partitions of a topic (per-topic override or the default). */}}
{{- define "cdp.topicPartitions" -}}
{{- $t := index .root.Values.topics.items .topic | default dict -}}
{{- default .root.Values.topics.partitions $t.partitions | int -}}
{{- end -}}

{{/*
Replica ceiling of a consumer: the largest partition count among the topics it consumes (beyond it
every extra group member is idle on every topic). 0 for a service that consumes nothing.
*/}}
{{- define "cdp.partitionCeiling" -}}
{{- $max := 0 -}}
{{- range .consumes -}}
{{- $p := include "cdp.topicPartitions" (dict "root" $.root "topic" .) | int -}}
{{- if gt $p $max }}{{ $max = $p }}{{ end -}}
{{- end -}}
{{- $max -}}
{{- end -}}

{{/* Environment from the ConfigMap and the Secret, shared by the services and the topics job. */}}
{{/* Call with (dict "root" $ "secret" <secret name>). */}}
{{- define "cdp.kafkaSecretEnv" -}}
{{- $secret := .secret -}}
{{- if .root.Values.kafka.sasl.enabled }}
- name: KAFKA_SASL_USERNAME
  valueFrom: { secretKeyRef: { name: {{ $secret }}, key: KAFKA_SASL_USERNAME } }
- name: KAFKA_SASL_PASSWORD
  valueFrom: { secretKeyRef: { name: {{ $secret }}, key: KAFKA_SASL_PASSWORD } }
{{- end }}
- name: SCHEMA_REGISTRY_USERNAME
  valueFrom: { secretKeyRef: { name: {{ $secret }}, key: SCHEMA_REGISTRY_USERNAME, optional: true } }
- name: SCHEMA_REGISTRY_PASSWORD
  valueFrom: { secretKeyRef: { name: {{ $secret }}, key: SCHEMA_REGISTRY_PASSWORD, optional: true } }
{{- end -}}

{{- define "cdp.kafkaCaVolumeMount" -}}
{{- if and .Values.kafka.tls.enabled .Values.kafka.tls.caSecret.name }}
- name: kafka-ca
  mountPath: /etc/cdp/kafka-ca
  readOnly: true
{{- end }}
{{- end -}}

{{- define "cdp.kafkaCaVolume" -}}
{{- if and .Values.kafka.tls.enabled .Values.kafka.tls.caSecret.name }}
- name: kafka-ca
  secret:
    secretName: {{ .Values.kafka.tls.caSecret.name }}
    items:
      - key: {{ .Values.kafka.tls.caSecret.key }}
        path: ca.crt
{{- end }}
{{- end -}}

{{/* Non-secret settings: the services' ConfigMap and the topics job's environment. */}}
{{- define "cdp.configData" -}}
KAFKA_BROKERS: {{ required "config.kafkaBrokers is required" .Values.config.kafkaBrokers | quote }}
SCHEMA_REGISTRY_URL: {{ required "config.schemaRegistryUrl is required" .Values.config.schemaRegistryUrl | quote }}
CDP_TOPIC_NAMESPACE: {{ .Values.config.topicNamespace | quote }}
CDP_TOPIC_PARTITIONS: {{ .Values.topics.partitions | quote }}
CDP_TOPIC_REPLICATION: {{ .Values.topics.replicationFactor | quote }}
LOG_LEVEL: {{ .Values.config.logLevel | quote }}
CDP_DEMO_WORKSPACE: {{ .Values.auth.demo.enabled | quote }}
KAFKA_SSL: {{ .Values.kafka.tls.enabled | quote }}
{{- if and .Values.kafka.tls.enabled .Values.kafka.tls.caSecret.name }}
KAFKA_SSL_CA_FILE: /etc/cdp/kafka-ca/ca.crt
{{- end }}
{{- if .Values.kafka.sasl.enabled }}
KAFKA_SASL_MECHANISM: {{ .Values.kafka.sasl.mechanism | quote }}
{{- end }}
{{- range $k, $v := .Values.config.extraEnv }}
{{ $k }}: {{ $v | toString | quote }}
{{- end }}
{{- end -}}
