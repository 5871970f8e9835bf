package io.dagy.gateway.observability;

import io.dagy.contracts.identity.MessageKeys;
import io.dagy.contracts.run.RunEvents.RunFinished;
import io.dagy.contracts.run.RunId;
import io.dagy.contracts.run.RunStatus;
import io.dagy.contracts.run.TaskRunEvents.TaskAttemptStarted;
import io.dagy.contracts.run.TaskRunId;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.context.Scope;
import org.axonframework.eventhandling.GenericEventMessage;
import org.axonframework.messaging.MetaData;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The logging context of a handled message names its run, task, attempt, organization and trace. */
class LogContextTest {

    @Test
    void aTaskEventNamesItsRunTaskAttemptOrganizationAndTrace() {
        SpanContext span = SpanContext.create("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331",
                TraceFlags.getSampled(), TraceState.getDefault());
        var message = GenericEventMessage.asEventMessage(new TaskAttemptStarted(TaskRunId.of(new RunId("r-1"), "load"), 3))
                .andMetaData(MetaData.with(MessageKeys.ORG_ID, "acme"));

        Map<String, String> fields;
        try (Scope ignored = Span.wrap(span).makeCurrent()) {
            fields = LogContext.fields(message);
        }

        assertThat(fields).containsEntry("run_id", "r-1").containsEntry("task_id", "load").containsEntry("attempt", "3")
                .containsEntry("org", "acme").containsEntry("trace_id", "0af7651916cd43dd8448eb211c80319c")
                .containsEntry("span_id", "b7ad6b7169203331");
    }

    @Test
    void aRunEventNamesItsRunAndNothingItDoesNotCarry() {
        var message = GenericEventMessage.asEventMessage(new RunFinished(new RunId("r-2"), RunStatus.FAILED, List.of()));

        assertThat(LogContext.fields(message)).isEqualTo(Map.of("run_id", "r-2"));
    }
}
