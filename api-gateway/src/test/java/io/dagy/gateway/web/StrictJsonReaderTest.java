package io.dagy.gateway.web;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.PropertyNamingStrategies;
import tools.jackson.databind.exc.MismatchedInputException;
import tools.jackson.databind.exc.UnrecognizedPropertyException;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.json.JsonMapper;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The reader of request bodies refuses what a lenient Jackson would coerce, guess or drop. */
class StrictJsonReaderTest {

    record Retry(Integer maxAttempts, Double backoffRate, Boolean jitter) {
    }

    record Task(String id, String description, Retry retry, List<String> dependsOn, Map<String, String> tags,
                Map<String, Object> params) {
    }

    private final JsonMapper strict = WebEdgeConfiguration.strictReader(JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE).build());

    private Task read(String json) {
        return strict.readValue(json, Task.class);
    }

    @Test
    void aWellTypedBodyIsRead() {
        Task task = read("""
                {"id": "a", "retry": {"max_attempts": 3, "backoff_rate": 2, "jitter": false},
                 "depends_on": ["b"], "tags": {"team": "data"}, "params": {"n": 1, "x": null, "deep": [1.5, "s"]}}""");

        assertThat(task.retry().maxAttempts()).isEqualTo(3);
        assertThat(task.retry().backoffRate()).isEqualTo(2.0);
        assertThat(task.params()).containsEntry("n", 1).containsKey("x");
    }

    @Test
    void aNumberIsNotText() {
        assertThatThrownBy(() -> read("{\"id\": 1}")).isInstanceOf(MismatchedInputException.class);
        assertThatThrownBy(() -> read("{\"description\": 5.5}")).isInstanceOf(MismatchedInputException.class);
        assertThatThrownBy(() -> read("{\"depends_on\": [7]}")).isInstanceOf(MismatchedInputException.class);
        assertThatThrownBy(() -> read("{\"tags\": {\"team\": 7}}")).isInstanceOf(MismatchedInputException.class);
    }

    @Test
    void aBooleanIsNotText() {
        assertThatThrownBy(() -> read("{\"id\": true}")).isInstanceOf(MismatchedInputException.class);
    }

    @Test
    void aFractionIsNotAnInteger() {
        assertThatThrownBy(() -> read("{\"retry\": {\"max_attempts\": 2.5}}")).isInstanceOf(MismatchedInputException.class);
        assertThatThrownBy(() -> read("{\"retry\": {\"max_attempts\": 2.0}}")).isInstanceOf(MismatchedInputException.class);
    }

    @Test
    void textIsNotANumberOrABoolean() {
        assertThatThrownBy(() -> read("{\"retry\": {\"max_attempts\": \"3\"}}")).isInstanceOf(MismatchedInputException.class);
        assertThatThrownBy(() -> read("{\"retry\": {\"backoff_rate\": \"2.0\"}}")).isInstanceOf(MismatchedInputException.class);
        assertThatThrownBy(() -> read("{\"retry\": {\"jitter\": \"true\"}}")).isInstanceOf(MismatchedInputException.class);
        assertThatThrownBy(() -> read("{\"retry\": {\"max_attempts\": \"\"}}")).isInstanceOf(MismatchedInputException.class);
    }

    @Test
    void aNumberIsNotABoolean() {
        assertThatThrownBy(() -> read("{\"retry\": {\"jitter\": 1}}")).isInstanceOf(MismatchedInputException.class);
    }

    @Test
    void anUnknownFieldIsRefused() {
        assertThatThrownBy(() -> read("{\"retry\": {\"max_atempts\": 3}}")).isInstanceOf(UnrecognizedPropertyException.class);
    }

    @Test
    void aRepeatedKeyIsRefused() {
        assertThatThrownBy(() -> read("{\"id\": \"a\", \"id\": \"b\"}")).isInstanceOf(JacksonException.class);
    }

    @Test
    void contentAfterTheValueIsRefused() {
        assertThatThrownBy(() -> read("{\"id\": \"a\"} {\"id\": \"b\"}")).isInstanceOf(JacksonException.class);
    }

    @Test
    void aSingleValueIsNotAList() {
        assertThatThrownBy(() -> read("{\"depends_on\": \"b\"}")).isInstanceOf(MismatchedInputException.class);
    }
}
