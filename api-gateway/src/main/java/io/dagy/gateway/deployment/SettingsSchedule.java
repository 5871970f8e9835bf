package io.dagy.gateway.deployment;

import io.dagy.command.schedule.ScheduleRules;
import io.dagy.contracts.BusinessError;
import io.dagy.contracts.BusinessError.FieldError;
import io.dagy.contracts.ErrorCode;
import io.dagy.contracts.schedule.ScheduleCommands.DeleteSchedule;
import io.dagy.contracts.schedule.ScheduleCommands.PutSchedule;
import io.dagy.contracts.schedule.ScheduleId;
import io.dagy.contracts.schedule.ScheduleSpec;
import io.dagy.gateway.problem.ProblemException;
import org.axonframework.commandhandling.CommandExecutionException;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.modelling.command.AggregateNotFoundException;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;

/**
 * The deployment settings' {@code schedule} field: a cron expression (UTC) or an ISO-8601 interval, standing for the
 * deployment's schedule with id {@value ScheduleId#SETTINGS} and the defaults of every other field.
 */
final class SettingsSchedule {

    private SettingsSchedule() {
    }

    /** The spec the text stands for; a 400 naming {@code schedule} with every error when it is not a valid one. */
    static ScheduleSpec spec(String text) {
        ScheduleSpec spec;
        if (text.startsWith("P") || text.startsWith("p")) {
            try {
                spec = ScheduleSpec.every(Duration.parse(text));
            } catch (DateTimeParseException invalid) {
                throw ProblemException.invalid("schedule", "not a cron expression nor an ISO-8601 interval such as PT15M");
            }
        } else {
            spec = ScheduleSpec.cron(text, ScheduleSpec.UTC);
        }
        List<FieldError> errors = ScheduleRules.validate(spec, Map.of()).stream()
                .map(error -> new FieldError("schedule", error.message())).toList();
        if (!errors.isEmpty()) {
            throw ProblemException.of(new BusinessError(ErrorCode.VALIDATION_FAILED, "The settings are invalid.", errors));
        }
        return spec;
    }

    /** Sets the schedule to {@code spec}, or removes it when {@code spec} is null (a missing one is already removed). */
    static void apply(CommandGateway commands, ScheduleId id, ScheduleSpec spec) {
        if (spec != null) {
            commands.sendAndWait(new PutSchedule(id, spec, Map.of(), false));
            return;
        }
        try {
            commands.sendAndWait(new DeleteSchedule(id));
        } catch (AggregateNotFoundException missing) {
            // never set
        } catch (CommandExecutionException refused) {
            if (!(refused.getDetails().orElse(null) instanceof BusinessError error)
                    || error.code() != ErrorCode.SCHEDULE_NOT_FOUND) {
                throw refused;
            }
        }
    }
}
