package io.dagy.localstack;

/**
 * One in-memory {@link LocalStack} per JVM, started on first use on free loopback ports and stopped when the JVM
 * exits. Integration tests of every module use it, so the servers start once per test JVM, and two Spring contexts
 * in one test (a restart) see the same tables.
 */
public final class SharedLocalStack {

    private SharedLocalStack() {
    }

    public static LocalStack get() {
        return Holder.STACK;
    }

    private static final class Holder {
        private static final LocalStack STACK = startWithShutdownHook();

        private static LocalStack startWithShutdownHook() {
            LocalStack stack = LocalStack.start(LocalStackOptions.inMemoryOnFreePorts());
            Runtime.getRuntime().addShutdownHook(new Thread(stack::close, "local-stack-shutdown"));
            return stack;
        }
    }
}
