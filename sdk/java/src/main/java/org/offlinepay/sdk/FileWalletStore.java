package org.offlinepay.sdk;

import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;

/**
 * The state as a JSON file, replaced atomically: written to a temporary file beside it, forced to the disk, then
 * renamed over the old one, so a power cut leaves the old state or the new one, never half of either. On Android
 * pass a file in Context.getFilesDir() (app-private storage). java.nio.file is on Android from API 26 (8.0).
 */
public final class FileWalletStore implements WalletStore {
    private final File file;

    public FileWalletStore(File file) {
        this.file = file;
    }

    @Override
    public synchronized WalletState load() throws IOException {
        if (!file.exists()) return null;
        try {
            return WalletState.fromJson(new String(Files.readAllBytes(file.toPath()), StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw new IOException("the wallet state in " + file + " is damaged", e);
        }
    }

    @Override
    public synchronized void save(WalletState s) throws IOException {
        File tmp = new File(file.getPath() + ".tmp");
        try (FileOutputStream out = new FileOutputStream(tmp)) {
            out.write(s.toJson().getBytes(StandardCharsets.UTF_8));
            out.getFD().sync();
        }
        Files.move(tmp.toPath(), file.toPath(), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
