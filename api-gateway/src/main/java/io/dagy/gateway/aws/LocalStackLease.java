package io.dagy.gateway.aws;

import io.dagy.localstack.LocalStack;

/**
 * The embedded stack as this application uses it: either started and owned by this application (closed with it), or
 * the JVM-wide shared stack of the tests (left running for the next application context).
 */
record LocalStackLease(LocalStack stack, boolean owned) implements AutoCloseable {

    @Override
    public void close() {
        if (owned) {
            stack.close();
        }
    }
}
