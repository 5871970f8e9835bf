package io.dagy.contracts.run;

/** A run's id. Axon routes commands and associates sagas by {@link #toString()}. */
public record RunId(String value) {

    public RunId {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException("blank run id");
        }
    }

    @Override
    public String toString() {
        return value;
    }
}
