package io.dagy.saga.backend.aws;

import io.dagy.contracts.deployment.BackendType;
import io.dagy.saga.backend.BackendReports;
import io.dagy.saga.backend.Dispatch;
import io.dagy.saga.secret.SecretResolver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.InvocationType;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import tools.jackson.databind.ObjectWriter;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Runs an attempt as an asynchronous invocation ({@code InvocationType=Event}) of the task's {@code function} or, when
 * the task names none, of {@code DAGY_FLOW_EXECUTOR_FUNCTION}. The payload carries the dispatch id and its execution
 * name, the run, task, attempt and organization, the task's {@code input} and the run's params, and the values of
 * the task's {@code secrets}. The outcome comes back as the function's destination record (on success and on failure,
 * through EventBridge or straight to the events queue), or as reports the function sends itself.
 *
 * <p>Lambda has no idempotency token for invocations: a dispatch id recorded before whose invocation is not known to
 * have been accepted is not invoked again (at most once; its timeouts end it). An accepted invocation is reported as
 * started, since Lambda says nothing when it begins. An invocation cannot be stopped: cancel and timeouts only mark the
 * dispatch, and its late outcome changes nothing.
 */
public final class LambdaBackend extends AwsBackend {

    private static final Logger log = LoggerFactory.getLogger(LambdaBackend.class);

    private final LambdaClient lambda;
    private final String defaultFunction;
    private final ObjectWriter json;

    public LambdaBackend(LambdaClient lambda, String defaultFunction, AwsDispatches dispatches, SecretResolver secrets,
                         BackendReports reports, JsonMapper json) {
        super(dispatches, secrets, reports);
        this.lambda = lambda;
        this.defaultFunction = defaultFunction == null || defaultFunction.isBlank() ? null : defaultFunction;
        this.json = json.writer().with(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);
    }

    @Override
    public BackendType type() {
        return BackendType.LAMBDA;
    }

    @Override
    Started start(Dispatch dispatch, String name, Map<String, String> secretValues) {
        Object configured = dispatch.spec().backend().config().get("function");
        String function = configured instanceof String text && !text.isBlank() ? text : defaultFunction;
        if (function == null) {
            throw misconfigured("the task names no function and DAGY_FLOW_EXECUTOR_FUNCTION is not set");
        }
        Map<String, Object> payload = new LinkedHashMap<>(identity(dispatch, name));
        Object input = dispatch.spec().backend().config().get("input");
        payload.put("input", input == null ? Map.of() : input);
        payload.put("params", dispatch.params());
        payload.put("secrets", secretValues);
        InvokeResponse response = lambda.invoke(b -> b.functionName(function).invocationType(InvocationType.EVENT)
                .payload(SdkBytes.fromUtf8String(json.writeValueAsString(payload))));
        String requestId = response.responseMetadata().requestId();
        reports.started(dispatch.dispatchId());
        return new Started(requestId == null ? "accepted" : requestId, function);
    }

    @Override
    Optional<Started> resume(Dispatch dispatch, String name, Map<String, String> secretValues) {
        log.warn("Dispatch {} was recorded before but its invocation is not known to have been accepted; not invoking "
                + "it again (its timeouts end it)", dispatch.dispatchId());
        return Optional.empty();
    }

    @Override
    void stop(String handle, String scope, String reason) {
        // an asynchronous invocation cannot be stopped; its outcome arrives late and changes nothing
    }

    static software.amazon.awssdk.services.lambda.model.LambdaException misconfigured(String message) {
        return (software.amazon.awssdk.services.lambda.model.LambdaException)
                software.amazon.awssdk.services.lambda.model.LambdaException.builder().message(message).statusCode(400)
                        .build();
    }
}
