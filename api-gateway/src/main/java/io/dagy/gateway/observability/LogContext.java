package io.dagy.gateway.observability;

import io.dagy.contracts.identity.MessageKeys;
import io.dagy.contracts.run.RunId;
import io.dagy.contracts.run.TaskRunId;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import org.axonframework.messaging.InterceptorChain;
import org.axonframework.messaging.Message;
import org.axonframework.messaging.MessageHandlerInterceptor;
import org.axonframework.messaging.unitofwork.UnitOfWork;
import org.slf4j.MDC;

import java.lang.reflect.RecordComponent;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Puts the run id, task id, attempt, organization and trace id of the message being handled into the logging context
 * (MDC) of every command, event, saga and deadline handler, so every line of a run's work carries them (in the
 * {@code aws} profile's JSON logs as fields). They come from the payload's record components ({@code runId},
 * {@code taskRunId}, {@code attempt}), the message's organization metadata and the current span. The previous context
 * is restored afterwards.
 */
final class LogContext implements MessageHandlerInterceptor<Message<?>> {

    static final String RUN_ID = "run_id";
    static final String TASK_ID = "task_id";
    static final String ATTEMPT = "attempt";
    static final String ORG = "org";
    static final String TRACE_ID = "trace_id";
    static final String SPAN_ID = "span_id";

    /** Per payload class, its components that name a run, task run or attempt (looked up once per class). */
    private static final ClassValue<RecordComponent[]> COMPONENTS = new ClassValue<>() {
        @Override
        protected RecordComponent[] computeValue(Class<?> type) {
            if (!type.isRecord()) {
                return new RecordComponent[0];
            }
            return java.util.Arrays.stream(type.getRecordComponents())
                    .filter(c -> c.getType() == RunId.class || c.getType() == TaskRunId.class
                            || (c.getName().equals(ATTEMPT) && c.getType() == int.class))
                    .peek(c -> c.getAccessor().setAccessible(true))
                    .toArray(RecordComponent[]::new);
        }
    };

    @Override
    public Object handle(UnitOfWork<? extends Message<?>> unitOfWork, InterceptorChain chain) throws Exception {
        Map<String, String> previous = MDC.getCopyOfContextMap();
        try {
            fields(unitOfWork.getMessage()).forEach(MDC::put);
            return chain.proceed();
        } finally {
            if (previous == null) {
                MDC.clear();
            } else {
                MDC.setContextMap(previous);
            }
        }
    }

    /** The fields of one message; exposed for the backends' threads, which carry them on. */
    static Map<String, String> fields(Message<?> message) {
        Map<String, String> fields = new LinkedHashMap<>();
        Object payload = message.getPayload();
        if (payload != null) {
            for (RecordComponent component : COMPONENTS.get(payload.getClass())) {
                Object value;
                try {
                    value = component.getAccessor().invoke(payload);
                } catch (ReflectiveOperationException e) {
                    continue;
                }
                if (value instanceof TaskRunId task) {
                    fields.put(RUN_ID, task.runId().value());
                    fields.put(TASK_ID, task.taskId());
                } else if (value instanceof RunId run) {
                    fields.putIfAbsent(RUN_ID, run.value());
                } else if (value != null) {
                    fields.put(ATTEMPT, value.toString());
                }
            }
        }
        Object org = message.getMetaData().get(MessageKeys.ORG_ID);
        if (org != null) {
            fields.put(ORG, org.toString());
        }
        fields.putAll(traceFields());
        return fields;
    }

    /** The current span's trace and span id, if a span is recording. */
    static Map<String, String> traceFields() {
        SpanContext span = Span.current().getSpanContext();
        if (!span.isValid()) {
            return Map.of();
        }
        Map<String, String> fields = new HashMap<>();
        fields.put(TRACE_ID, span.getTraceId());
        fields.put(SPAN_ID, span.getSpanId());
        return fields;
    }
}
