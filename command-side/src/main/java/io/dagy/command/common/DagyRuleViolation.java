package io.dagy.command.common;

import io.dagy.contracts.BusinessError;
import io.dagy.contracts.ErrorCode;
import org.axonframework.commandhandling.CommandExecutionException;

import java.util.List;

/**
 * A command broke a business rule. It carries a {@link BusinessError} as its details, so the REST edge can answer
 * with the error's code (also when the command ran on another node).
 */
public final class DagyRuleViolation extends CommandExecutionException {

    public DagyRuleViolation(ErrorCode code, String message) {
        this(new BusinessError(code, message, List.of()));
    }

    public DagyRuleViolation(BusinessError error) {
        super(error.message(), null, error);
    }

    public BusinessError error() {
        return (BusinessError) getDetails().orElseThrow();
    }
}
