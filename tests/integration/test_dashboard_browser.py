"""The stack's dashboard in a real browser (Debian's chromium, headless):
`failover up` serves one page for the whole stack; the page, run by the
browser from /status, shows every component up; a component killed under
it shows down, with its exit, on the page itself. Saves a screenshot next
to the binary (dashboard-after-kill.png)."""
import os
import re
import shutil
import signal
import subprocess
import unittest

import harness as h
from cluster import Up, cluster_file

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def browser(url, *args, timeout=60):
    """Runs headless chromium on `url` with `args`; its stdout."""
    home = h.tempdir("failover-chromium-")
    r = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                        "--user-data-dir=" + home, "--virtual-time-budget=4000", *args, url],
                       capture_output=True, text=True, timeout=timeout)
    return r.stdout


def row(dom, name):
    """The component's row of the rendered page, or ''."""
    m = re.search(r'<tr data-component="%s">(.*?)</tr>' % re.escape(name), dom, re.S)
    return m.group(1) if m else ""


@unittest.skipUnless(CHROMIUM, "chromium is not installed (scripts/install-deps installs it)")
class DashboardBrowserTest(unittest.TestCase):
    def test_a_killed_component_shows_down_on_the_page(self):
        d = h.tempdir("failover-dash-")
        path, addr = cluster_file(d, instances=2)
        up = Up(h.BINARY, path, addr["dashboard"])
        try:
            up.wait_serving()
            url = "http://%s/" % addr["dashboard"]
            before = browser(url, "--dump-dom")
            self.assertIn('data-component="web-2"', before, before[:3000])
            self.assertIn('class="up">up<', row(before, "web-2"))
            self.assertRegex(row(before, "store-a"), r"(primary|backup) e\d")

            os.kill(up.component("web-2")["pid"], signal.SIGKILL)
            self.assertTrue(h.wait_for(lambda: not up.component("web-2")["running"], 5.0))
            after = browser(url, "--dump-dom")
            self.assertIn("down (exit 137)", row(after, "web-2"), row(after, "web-2"))
            self.assertIn('class="up">up<', row(after, "web-1"))  # the others are still up
            self.assertIn("killed by signal 9", after)             # the latest changes

            shot = os.path.join(os.path.dirname(h.BINARY), "dashboard-after-kill.png")
            browser(url, "--screenshot=" + shot, "--window-size=1200,900", "--hide-scrollbars")
            self.assertTrue(os.path.getsize(shot) > 10000, shot)
            h.log("screenshot: %s" % shot)
        finally:
            self.assertEqual(up.stop(), 0)
            up.close()


if __name__ == "__main__":
    h.main()
