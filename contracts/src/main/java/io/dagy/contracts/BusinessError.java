package io.dagy.contracts;

import java.util.List;

/**
 * Why a command was refused: a stable code, a message for people, and the field errors when there are several.
 */
public record BusinessError(ErrorCode code, String message, List<FieldError> errors) {

    public BusinessError {
        errors = errors == null ? List.of() : List.copyOf(errors);
    }

    public static BusinessError of(ErrorCode code, String message) {
        return new BusinessError(code, message, List.of());
    }

    /** One invalid field, named by its JSON path (for example {@code tasks[2].retry.max_attempts}). */
    public record FieldError(String field, String message) {
    }
}
