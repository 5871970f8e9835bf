package io.dagy.saga.report;

import io.dagy.saga.backend.BackendReports;
import software.amazon.awssdk.services.sqs.SqsClient;
import tools.jackson.databind.json.JsonMapper;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Backend reports as messages on the SQS events queue (the path AWS backends use too, through EventBridge or their
 * destinations): {@code {"dispatch_id", "kind": started|succeeded|failed, "output", "error_kind", "message"}}.
 */
public final class SqsReports implements BackendReports {

    private final SqsClient sqs;
    private final URI queueUrl;
    private final JsonMapper json;

    public SqsReports(SqsClient sqs, URI queueUrl, JsonMapper json) {
        this.sqs = sqs;
        this.queueUrl = queueUrl;
        this.json = json;
    }

    @Override
    public void started(String dispatchId) {
        send(Map.of("dispatch_id", dispatchId, "kind", "started"));
    }

    @Override
    public void heartbeat(String dispatchId) {
        send(Map.of("dispatch_id", dispatchId, "kind", "heartbeat"));
    }

    @Override
    public void succeeded(String dispatchId, Map<String, Object> output) {
        send(Map.of("dispatch_id", dispatchId, "kind", "succeeded", "output", output));
    }

    @Override
    public void failed(String dispatchId, String errorKind, String message) {
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("dispatch_id", dispatchId);
        report.put("kind", "failed");
        report.put("error_kind", errorKind);
        report.put("message", message);
        send(report);
    }

    private void send(Map<String, Object> report) {
        String body = json.writeValueAsString(report);
        int bytes = body.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > ReportTooLargeException.MAX_BYTES) {
            throw new ReportTooLargeException(bytes);
        }
        sqs.sendMessage(b -> b.queueUrl(queueUrl.toString()).messageBody(body));
    }
}
