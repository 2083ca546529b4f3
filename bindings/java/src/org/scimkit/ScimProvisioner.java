package org.scimkit;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The provisioning client: a principal's directory attributes in, the minimal SCIM requests out, through a
 * {@link Transport}. Configured with the provisioner JSON (services, each with {@code enabled} and a
 * {@code mapping}; see wit/scim.wit). Owns one engine instance; calls are serialised. Close it when done.
 */
public final class ScimProvisioner implements AutoCloseable {
    public enum Outcome { CREATED, UPDATED, UNCHANGED, SKIPPED, FAILED }

    /** One step; {@code status} is 0 when nothing was sent. */
    public record Step(String action, String method, String path, int status, String detail) {}

    /** What one call did; {@code error} is set with {@link Outcome#FAILED} only. */
    public record Report(Outcome outcome, String error, List<Step> steps) {}

    private long handle;

    /** @throws ScimException naming the offending key when the configuration is refused */
    public ScimProvisioner(String configJson) {
        handle = Native.provisionerNew(configJson);
    }

    /** Provisions one principal into one service's target, sending through {@code transport}. */
    public synchronized Report provision(String service, Map<String, List<String>> attributes, Transport transport) {
        if (handle == 0) {
            throw new ScimException("the provisioner is closed");
        }
        Object[] split = Native.split(attributes);
        String[] flat = Native.provisionerProvision(handle, service, (String[]) split[0], (String[][]) split[1], new TransportBridge(transport));
        List<Step> steps = new ArrayList<>();
        for (int i = 2; i + 4 < flat.length; i += 5) {
            steps.add(new Step(flat[i], flat[i + 1], flat[i + 2], Integer.parseInt(flat[i + 3]), flat[i + 4]));
        }
        return new Report(Outcome.valueOf(flat[0]), flat[1].isEmpty() ? null : flat[1], steps);
    }

    @Override
    public synchronized void close() {
        Native.provisionerFree(handle);
        handle = 0;
    }
}
