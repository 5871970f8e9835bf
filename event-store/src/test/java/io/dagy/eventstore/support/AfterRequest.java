package io.dagy.eventstore.support;

import software.amazon.awssdk.core.SdkRequest;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;

/**
 * Runs an action once, right after the first request that matches has been answered: a deterministic way to let
 * another node act between two requests of the code under test.
 */
public final class AfterRequest implements ExecutionInterceptor {

    private final Predicate<SdkRequest> which;
    private final Runnable action;
    private final AtomicBoolean done = new AtomicBoolean();

    public AfterRequest(Predicate<SdkRequest> which, Runnable action) {
        this.which = which;
        this.action = action;
    }

    public boolean ran() {
        return done.get();
    }

    @Override
    public void afterExecution(Context.AfterExecution context, ExecutionAttributes attributes) {
        if (which.test(context.request()) && done.compareAndSet(false, true)) {
            action.run();
        }
    }
}
