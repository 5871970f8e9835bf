package io.dagy.saga.backend.aws;

import io.dagy.contracts.run.ErrorKinds;
import io.dagy.saga.backend.BackendReports;
import io.dagy.saga.backend.Dispatch;
import io.dagy.saga.backend.ExecutionBackend;
import io.dagy.saga.secret.SecretResolver;
import io.dagy.saga.secret.SecretUnavailableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkException;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the three AWS backends share: a dispatch id is recorded ({@link AwsDispatches}) before AWS is asked to start
 * it, so a repeated dispatch starts nothing; the ARN AWS answers is recorded for a cancel to stop, on any node; an
 * AWS error is an attempt's failure with a kind a retry policy can tell apart ({@link #errorKind}).
 *
 * <p>Throttling, 5xx and connection failures are retried by the SDK's retry policy of the client (standard mode);
 * only when that gives up does the attempt fail, with {@code backend_throttled}.
 */
abstract class AwsBackend implements ExecutionBackend {

    private static final Logger log = LoggerFactory.getLogger(AwsBackend.class);

    /** A started execution: what a cancel stops ({@code handle}) and where ({@code scope}, e.g. the ECS cluster). */
    record Started(String handle, String scope) {
    }

    private final AwsDispatches dispatches;
    private final SecretResolver secrets;
    protected final BackendReports reports;

    AwsBackend(AwsDispatches dispatches, SecretResolver secrets, BackendReports reports) {
        this.dispatches = dispatches;
        this.secrets = secrets;
        this.reports = reports;
    }

    /** Asks AWS to start the attempt; {@code name} is its execution name. */
    abstract Started start(Dispatch dispatch, String name, Map<String, String> secretValues);

    /**
     * The dispatch was recorded before, but its start never recorded what it started (its node died in between, or
     * it is under way on another node). Returns what was started, starting it if AWS can tell it was not; empty when
     * it cannot be known (then nothing is started: an attempt runs at most once, and its timeouts end it).
     */
    abstract Optional<Started> resume(Dispatch dispatch, String name, Map<String, String> secretValues);

    /** Stops a started execution; one that has ended or no longer exists is no error. */
    abstract void stop(String handle, String scope, String reason);

    /**
     * A failure of DynamoDB (the record, the secrets) propagates: the saga's event is handled again, and the record
     * makes that safe. A failure of AWS fails the attempt with its kind.
     */
    @Override
    public final void dispatch(Dispatch dispatch) {
        String name = AwsDispatches.executionName(dispatch.dispatchId());
        Map<String, String> secretValues;
        try {
            secretValues = secrets.resolve(dispatch.org(), secretNames(dispatch));
        } catch (SecretUnavailableException e) {
            reports.failed(dispatch.dispatchId(), ErrorKinds.SECRET_UNAVAILABLE, e.getMessage());
            return;
        }
        Optional<AwsDispatches.Record> before = dispatches.claim(dispatch.dispatchId(), type());
        if (before.isPresent() && before.get().handle() != null) {
            log.info("Dispatch {} was started before ({}); not starting it again", dispatch.dispatchId(), name);
            return;
        }
        Optional<Started> started;
        try {
            started = before.isEmpty() ? Optional.of(start(dispatch, name, secretValues))
                    : resume(dispatch, name, secretValues);
        } catch (SdkException e) {
            String kind = errorKind(e);
            log.warn("{} refused dispatch {} ({}): {}", type().wire(), dispatch.dispatchId(), kind, e.getMessage());
            reports.failed(dispatch.dispatchId(), kind, type().wire() + ": " + e.getMessage());
            return;
        }
        if (started.isPresent()) {
            AwsDispatches.Record now = dispatches.started(dispatch.dispatchId(), started.get().handle(),
                    started.get().scope());
            if (now.cancelRequested()) {
                stop(started.get().handle(), started.get().scope(), "cancelled while it was being started");
            }
        }
    }

    @Override
    public final void cancel(String dispatchId) {
        Optional<AwsDispatches.Record> record = dispatches.requestCancel(dispatchId);
        if (record.isEmpty() || record.get().handle() == null) {
            return; // never started, or its start is under way and sees the mark when it records the handle
        }
        try {
            stop(record.get().handle(), record.get().scope(), "cancelled by Dagy (" + dispatchId + ")");
        } catch (SdkException e) {
            log.warn("Stopping {} of dispatch {} failed: {}", record.get().handle(), dispatchId, e.getMessage());
            throw e; // the saga's handler fails and its event or deadline is tried again
        }
    }

    /**
     * {@code backend_misconfigured} for a refusal that no retry changes (4xx other than throttling: access denied,
     * missing function or cluster, invalid parameters); {@code backend_throttled} for what the SDK retried in vain.
     */
    static String errorKind(SdkException e) {
        if (e instanceof AwsServiceException service && !service.isThrottlingException()) {
            int status = service.statusCode();
            if (status >= 400 && status < 500 && status != 408 && status != 429) {
                return ErrorKinds.BACKEND_MISCONFIGURED;
            }
        }
        return ErrorKinds.BACKEND_THROTTLED;
    }

    @SuppressWarnings("unchecked")
    private static List<String> secretNames(Dispatch dispatch) {
        Object names = dispatch.spec().backend().config().get("secrets");
        return names instanceof List<?> list ? (List<String>) list : List.of();
    }

    /** Common fields of what an execution receives: who it is and what it got. */
    static Map<String, Object> identity(Dispatch dispatch, String name) {
        Map<String, Object> identity = new java.util.LinkedHashMap<>();
        identity.put("dispatch_id", dispatch.dispatchId());
        identity.put("execution_name", name);
        identity.put("run_id", dispatch.taskRunId().runId().value());
        identity.put("task_id", dispatch.taskRunId().taskId());
        identity.put("attempt", dispatch.attempt());
        identity.put("org_id", dispatch.org().value());
        return identity;
    }
}
