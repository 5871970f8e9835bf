package io.dagy.saga.backend.aws;

import io.dagy.contracts.deployment.BackendType;
import io.dagy.saga.backend.BackendReports;
import io.dagy.saga.backend.Dispatch;
import io.dagy.saga.secret.SecretResolver;
import software.amazon.awssdk.services.sfn.SfnClient;
import software.amazon.awssdk.services.sfn.model.ExecutionAlreadyExistsException;
import software.amazon.awssdk.services.sfn.model.ExecutionDoesNotExistException;
import tools.jackson.databind.ObjectWriter;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Runs an attempt as an execution of the task's {@code state_machine_arn}, named by the dispatch's execution name
 * ({@link AwsDispatches#executionName}): Step Functions starts one execution per name and input, so starting a
 * dispatch again returns the execution it already started. The input holds the dispatch's identity, the task's
 * {@code input}, the run's params and the values of the task's {@code secrets}. Cancel and timeouts are
 * {@code StopExecution}. The outcome arrives as EventBridge's "Step Functions Execution Status Change".
 */
public final class StepFunctionsBackend extends AwsBackend {

    private final SfnClient sfn;
    /** Keys in order: the same dispatch gives the same input on every node, as an idempotent start needs. */
    private final ObjectWriter json;

    public StepFunctionsBackend(SfnClient sfn, AwsDispatches dispatches, SecretResolver secrets, BackendReports reports,
                                JsonMapper json) {
        super(dispatches, secrets, reports);
        this.sfn = sfn;
        this.json = json.writer().with(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);
    }

    @Override
    public BackendType type() {
        return BackendType.STEP_FUNCTIONS;
    }

    @Override
    Started start(Dispatch dispatch, String name, Map<String, String> secretValues) {
        String stateMachine = (String) dispatch.spec().backend().config().get("state_machine_arn");
        Map<String, Object> input = new LinkedHashMap<>(identity(dispatch, name));
        Object taskInput = dispatch.spec().backend().config().get("input");
        input.put("input", taskInput == null ? Map.of() : taskInput);
        input.put("params", dispatch.params());
        input.put("secrets", secretValues);
        String executionArn = sfn.startExecution(b -> b.stateMachineArn(stateMachine).name(name)
                .input(json.writeValueAsString(input))).executionArn();
        return new Started(executionArn, stateMachine);
    }

    /**
     * Starting the same name with the same input again is Step Functions' own idempotent start. If the input differs
     * (a secret changed meanwhile) Step Functions refuses it as {@code ExecutionAlreadyExists}: that execution is this
     * dispatch's, and its ARN follows from the state machine's and the name.
     */
    @Override
    Optional<Started> resume(Dispatch dispatch, String name, Map<String, String> secretValues) {
        try {
            return Optional.of(start(dispatch, name, secretValues));
        } catch (ExecutionAlreadyExistsException startedBefore) {
            String stateMachine = (String) dispatch.spec().backend().config().get("state_machine_arn");
            return Optional.of(new Started(stateMachine.replace(":stateMachine:", ":execution:") + ":" + name,
                    stateMachine));
        }
    }

    @Override
    void stop(String handle, String scope, String reason) {
        try {
            sfn.stopExecution(b -> b.executionArn(handle).error("dagy.cancelled").cause(reason));
        } catch (ExecutionDoesNotExistException gone) {
            // nothing left to stop
        }
    }
}
