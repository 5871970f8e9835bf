package io.dagy.testdomain;

import org.axonframework.config.ProcessingGroup;
import org.axonframework.eventhandling.EventHandler;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Fails the first time it sees each counter opened, and remembers how often it was called. */
@ProcessingGroup("flaky")
public class FlakyListener {

    public static final Map<String, Integer> CALLS = new ConcurrentHashMap<>();

    @EventHandler
    void on(Counter.CounterOpened event) {
        if (CALLS.merge(event.counterId(), 1, Integer::sum) == 1) {
            throw new IllegalStateException("first delivery of " + event.counterId() + " fails");
        }
    }
}
