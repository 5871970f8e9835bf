package io.dagy.command.deployment;

import io.dagy.contracts.BusinessError.FieldError;
import io.dagy.contracts.deployment.DagDraft;
import io.dagy.contracts.deployment.DagDraft.BackendDraft;
import io.dagy.contracts.deployment.DagDraft.TaskDraft;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Drafts come straight from clients: whatever is null or absurd in them is a field error, never an exception. */
class DagValidatorTest {

    private static TaskDraft task(String id, BackendDraft backend, Map<String, Object> params) {
        return new TaskDraft(id, backend, null, null, null, null, params);
    }

    private static TaskDraft noop(String id) {
        return task(id, new BackendDraft("noop", Map.of()), null);
    }

    private static List<FieldError> errorsOf(DagDraft draft) {
        DagValidator.Result result = DagValidator.validate(draft);
        assertThat(result).isInstanceOf(DagValidator.Invalid.class);
        return ((DagValidator.Invalid) result).errors();
    }

    @Test
    void aNullTaskIsNamedByItsIndex() {
        List<FieldError> errors = errorsOf(new DagDraft(null, Arrays.asList(noop("a"), null)));

        assertThat(errors).containsExactly(new FieldError("tasks[1]", "must be a task object, not null"));
    }

    @Test
    void aNullParamValueIsNamedByItsKey() {
        Map<String, Object> params = new HashMap<>();
        params.put("day", null);

        List<FieldError> errors = errorsOf(new DagDraft(null, List.of(task("a", new BackendDraft("noop", Map.of()), params))));

        assertThat(errors).extracting(FieldError::field).containsExactly("tasks[0].params.day");
    }

    @Test
    void aNullBackendSettingIsNamedByItsKey() {
        Map<String, Object> config = new HashMap<>();
        config.put("image", null);

        List<FieldError> errors = errorsOf(new DagDraft(null, List.of(task("a", new BackendDraft("noop", config), null))));

        assertThat(errors).extracting(FieldError::field).containsExactly("tasks[0].backend.image");
    }

    @Test
    void aWorkerQueueThatCannotBeAKeyIsRefused() {
        List<FieldError> errors = errorsOf(new DagDraft(null, List.of(
                task("a", new BackendDraft("worker", Map.of("queue", "q".repeat(129))), null),
                task("b", new BackendDraft("worker", Map.of("queue", "two words")), null))));

        assertThat(errors).extracting(FieldError::field).containsExactly("tasks[0].backend.queue", "tasks[1].backend.queue");
    }

    @Test
    void aPlainWorkerQueueIsAccepted() {
        DagValidator.Result result = DagValidator.validate(new DagDraft(null, List.of(
                task("a", new BackendDraft("worker", Map.of("queue", "etl.high-priority:eu_1")), null))));

        assertThat(result).isInstanceOf(DagValidator.Valid.class);
    }

    @Test
    void aLambdaTaskWithoutAFunctionIsAcceptedForTheFlowExecutorButABlankOneIsNot() {
        assertThat(DagValidator.validate(new DagDraft(null, List.of(task("a", new BackendDraft("lambda", Map.of()), null)))))
                .isInstanceOf(DagValidator.Valid.class);
        assertThat(errorsOf(new DagDraft(null, List.of(task("a", new BackendDraft("lambda", Map.of("function", " ")), null)))))
                .extracting(FieldError::field).containsExactly("tasks[0].backend.function");
    }

    @Test
    void secretsAreAListOfSecretNames() {
        assertThat(DagValidator.validate(new DagDraft(null, List.of(task("a", new BackendDraft("ecs",
                Map.of("task_definition", "worker:1", "secrets", List.of("db-password", "github.token"))), null)))))
                .isInstanceOf(DagValidator.Valid.class);
        List<FieldError> errors = errorsOf(new DagDraft(null, List.of(
                task("a", new BackendDraft("lambda", Map.of("secrets", "db-password")), null),
                task("b", new BackendDraft("lambda", Map.of("secrets", List.of("two words"))), null))));

        assertThat(errors).extracting(FieldError::field).containsExactly("tasks[0].backend.secrets",
                "tasks[1].backend.secrets");
    }

    @Test
    void aHugeValueIsCutShortInItsMessage() {
        String huge = "x".repeat(100_000);

        List<FieldError> errors = errorsOf(new DagDraft(null, List.of(
                new TaskDraft("a", new BackendDraft("noop", Map.of()), null, huge, null, null, null))));

        assertThat(errors).singleElement().satisfies(error -> {
            assertThat(error.field()).isEqualTo("tasks[0].trigger_rule");
            assertThat(error.message()).hasSizeLessThan(200);
        });
    }
}
